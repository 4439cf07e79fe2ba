// The internal CA's error, apart from the CA itself so that catching it does not load the
// certificate library (@peculiar/x509) at start-up.
export class InternalCaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InternalCaError";
  }
}
