// TLS policy for the HTTPS listener: TLS 1.2 and 1.3 only, Mozilla "intermediate" ciphers.
export const MIN_TLS_VERSION = "TLSv1.2" as const;

// Mozilla intermediate (v5.7) TLS 1.2 suites; TLS 1.3 suites are Node's defaults.
export const TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
  "DHE-RSA-AES128-GCM-SHA256",
  "DHE-RSA-AES256-GCM-SHA384",
  "DHE-RSA-CHACHA20-POLY1305",
].join(":");
