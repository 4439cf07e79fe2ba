#!/usr/bin/env bash
# Local stand-ins for the registry images the project's Dockerfiles start from: the test machines
# reach no image registry (../shared/CONTAINERS.md). Made once, then kept in podman's image store.
#   base-images.sh node IMAGE    the host's node, npm, busybox and CA bundle; user node (uid 1000)
#                                and /tmp 1777, as in the official Node images
#   base-images.sh debian IMAGE  a minimal Debian with apt, made by mmdebstrap from the host's mirror
# Run with CONTAINERS_CONF set as test/support/containers.ts sets it.
set -euo pipefail
kind=$1 image=$2
pm() { podman --storage-driver vfs --cgroup-manager cgroupfs --runtime runc "$@"; }

# Test files may ask at the same time: the first makes the image, the others find it made.
exec 9>/tmp/padlock-base-images.lock
flock 9
pm image exists "$image" && exit 0

make_node_base() (
  R=$(mktemp -d); trap 'rm -rf "$R"' EXIT
  chmod 755 "$R"   # mktemp -d gives 0700, and this directory becomes the image's /
  mkdir -p "$R"/{usr/bin,usr/lib/node_modules,usr/lib64,usr/etc,etc/ssl/certs,root,home/node,tmp,var/tmp}
  ln -s usr/bin "$R/bin"; ln -s usr/bin "$R/sbin"; ln -s usr/lib "$R/lib"; ln -s usr/lib64 "$R/lib64"
  cp /usr/bin/node "$R/usr/bin/"
  for f in $(ldd /usr/bin/node | grep -o '/[^ ]*'); do mkdir -p "$R${f%/*}"; cp -L "$f" "$R$f"; done
  cp -a /usr/lib/node_modules/npm "$R/usr/lib/node_modules/"
  for b in npm npx; do ln -s "../lib/node_modules/npm/bin/$b-cli.js" "$R/usr/bin/$b"; done
  cp /bin/busybox "$R/usr/bin/"
  for a in $(/bin/busybox --list); do [ -e "$R/usr/bin/$a" ] || ln -s busybox "$R/usr/bin/$a"; done
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then cp /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/"; fi
  printf 'registry=%s\ncafile=/etc/ssl/certs/ca-certificates.crt\nupdate-notifier=false\n' \
    "$(npm config get registry)" > "$R/usr/etc/npmrc"   # npm's global config inside the image
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n' > "$R/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\n' > "$R/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$R/etc/nsswitch.conf"
  chown 1000:1000 "$R/home/node"; chmod 1777 "$R/tmp" "$R/var/tmp"; chmod 700 "$R/root"
  tar --numeric-owner -C "$R" -c . | pm import -q -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    -c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' -c 'CMD ["node"]' - "$image" >/dev/null
)

make_debian_base() {
  . /etc/os-release
  mmdebstrap --variant=minbase --quiet "$VERSION_CODENAME" - | pm import -q -c 'CMD ["bash"]' - "$image" >/dev/null
}

case $kind in
  node) make_node_base ;;
  debian) make_debian_base ;;
  *) echo "usage: $0 node|debian IMAGE" >&2; exit 2 ;;
esac
