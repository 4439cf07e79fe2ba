// The addresses of this machine, from its network interfaces.
import os from "node:os";

/** Every address of this machine, loopback included. */
export function localAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flatMap((list) => list ?? [])
    .map((i) => i.address.replace(/%.*$/, ""));
}

/** The addresses worth naming to a person: no loopback, no IPv6 link-local. */
export function reachableAddresses(addresses: string[]): string[] {
  const named = addresses.filter((a) => a !== "127.0.0.1" && a !== "::1" && !a.toLowerCase().startsWith("fe80:"));
  return named.length ? named : addresses;
}
