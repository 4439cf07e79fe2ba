// Automatic HTTPS for a Fastify app: certificates obtained, stored and renewed by padlock.
import http from "node:http";
import https from "node:https";
import Fastify from "fastify";
import { manageCertificates } from "padlock-https";

const certs = await manageCertificates({
  ca: process.env.ACME_CA ?? "letsencrypt",
  email: process.env.EMAIL,
  acceptTerms: true,
  storage: "certificates",
  names: (process.env.DOMAINS ?? "example.com,www.example.com").split(","),
});
const app = Fastify({ serverFactory: (handler) => https.createServer({ SNICallback: certs.sniCallback }, handler) });
app.get("/", async (req) => `Hello from Fastify over HTTPS, ${req.hostname.replace(/:\d+$/, "")}\n`);
await app.listen({ port: Number(process.env.HTTPS_PORT ?? 443), host: "0.0.0.0" });
http.createServer(certs.http01()).listen(process.env.HTTP_PORT ?? 80);
