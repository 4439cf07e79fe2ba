# padlock in a container: `docker build -t padlock .` (README, "Containers").
# Every stage starts from NODE_IMAGE, so a local Node image can stand in where no registry is
# reachable (--build-arg NODE_IMAGE=...).
ARG NODE_IMAGE=node:26-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.types.json ./
COPY bin bin
COPY build build
COPY src src
COPY themes themes
COPY examples/blog examples/blog
COPY schema schema
# The bundle, the config validator, the packages the bundle leaves out, the theme, the example
# blog and the schema: nothing else goes into the image.
RUN npm run build && node dist/build/runtime-files.js /padlock

FROM ${NODE_IMAGE}
COPY --from=build /padlock /opt/padlock
RUN mkdir -p /usr/local/bin /etc/padlock /data \
 && ln -s /opt/padlock/bin/padlock /usr/local/bin/padlock \
 && chown node:node /data
# The config, when mounted at /etc/padlock/padlock.yaml (else the example blog is served), and
# the storage when the config names none.
ENV PADLOCK_CONFIG=/etc/padlock/padlock.yaml PADLOCK_STORAGE=/data
VOLUME /data
EXPOSE 80 443
# Binding 80 and 443 as this user needs CAP_NET_BIND_SERVICE (podman run --cap-add NET_BIND_SERVICE)
# or a network whose unprivileged ports start at 0 (Docker's default bridge network).
USER node
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s CMD ["padlock", "health"]
# padlock is PID 1: SIGTERM lets requests in flight finish, then exits 0; SIGHUP reloads the config.
ENTRYPOINT ["padlock"]
CMD ["serve"]
