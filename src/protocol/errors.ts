/**
 * The error catalogue lives in the client package (@ofa-entail/client), the one source of the wire format; the
 * service adds VerdictError, the failures that end in an error verdict. docs/errors.md has one entry per code.
 */
import { OfaError, type ErrorCode } from "@ofa-entail/client/source";

export { ERROR_SPECS, ErrorCode, OfaError, isErrorCode,   } from "@ofa-entail/client/source";

/** Where in a request a fault is: `index` names the hypothesis of a policy list. */
export interface FaultDetails {
  readonly index?: number;
}

/** A failure that ends in an error verdict for the caller (bad input, deadline, model failure). */
export class VerdictError extends OfaError {
  /** Carried into the error verdict's `error.details`. */
  readonly details: FaultDetails | undefined;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions & { details?: FaultDetails }) {
    super(code, message, options);
    this.name = "VerdictError";
    this.details = options?.details;
  }
}

