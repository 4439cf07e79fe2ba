// Automatic HTTPS for a Hono app on Node (@hono/node-server): certificates obtained, stored and renewed by padlock.
import http from "node:http";
import https from "node:https";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { manageCertificates } from "padlock-https";

const app = new Hono();
app.get("/", (c) => c.text(`Hello from Hono over HTTPS, ${new URL(c.req.url).hostname}\n`));

const certs = await manageCertificates({
  ca: process.env.ACME_CA ?? "letsencrypt",
  email: process.env.EMAIL,
  acceptTerms: true,
  storage: "certificates",
  names: (process.env.DOMAINS ?? "example.com,www.example.com").split(","),
});
http.createServer(certs.http01()).listen(process.env.HTTP_PORT ?? 80);
serve({ fetch: app.fetch, createServer: https.createServer, serverOptions: { SNICallback: certs.sniCallback }, port: Number(process.env.HTTPS_PORT ?? 443) });
