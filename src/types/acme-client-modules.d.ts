// acme-client publishes types for its index only; acme-client-parts.ts gives these their types.
declare module "acme-client/src/client.js" {
  const client: unknown;
  export default client;
}
