// Automatic HTTPS for an Express app: certificates obtained, stored and renewed by padlock.
import http from "node:http";
import https from "node:https";
import express from "express";
import { manageCertificates } from "padlock-https";

const app = express();
app.get("/", (req, res) => res.send(`Hello from Express over HTTPS, ${req.hostname}\n`));

const certs = await manageCertificates({
  ca: process.env.ACME_CA ?? "letsencrypt",
  email: process.env.EMAIL,
  acceptTerms: true,
  storage: "certificates",
  names: (process.env.DOMAINS ?? "example.com,www.example.com").split(","),
});
http.createServer(certs.http01()).listen(process.env.HTTP_PORT ?? 80);
https.createServer({ SNICallback: certs.sniCallback }, app).listen(process.env.HTTPS_PORT ?? 443);
