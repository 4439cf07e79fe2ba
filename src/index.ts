// padlock as a library: automatic HTTPS for any Node server (manageCertificates), or the whole
// edge (createPadlockServer). Everything exported here is the public API, and nothing else is.
export { manageCertificates } from "./library/manage-certificates.js";
export type { CertificateFailure, CertificateInfo, CertificateStatus, KeyType, LoggerLike, ManageCertificatesOptions, ManagedCertificates, PadlockServer, PadlockServerOptions } from "./library/api.js";
export { createPadlockServer } from "./library/padlock-server.js";
export { PadlockError, errorCode } from "./errors.js";
export type { PadlockErrorCode } from "./errors.js";
