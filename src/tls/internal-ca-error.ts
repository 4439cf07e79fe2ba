// The internal CA's error, apart from the CA itself so that catching it does not load the
// certificate library (@peculiar/x509) at start-up.
import { PadlockError } from "../errors.js";

export class InternalCaError extends PadlockError {
  constructor(message: string) {
    super("INTERNAL_CA", message);
    this.name = "InternalCaError";
  }
}
