/**
 * Failures of the load generator itself, with stable codes (the wire's OFA_ERR_* catalogue is the service's;
 * these are the tool's). A caller branches on `code`, never on the message.
 */

export const LoadgenErrorCode = {
  /** An option is missing, malformed or contradicts another one; `problems` lists every one. */
  OPTIONS: "OFA_LOADGEN_ERR_OPTIONS",
  /** --images DIR holds no JPEG/PNG/WebP file, or one could not be read. */
  IMAGES: "OFA_LOADGEN_ERR_IMAGES",
  /** --texts / --premises file missing or empty. */
  TEXTS: "OFA_LOADGEN_ERR_TEXTS",
  /** Could not connect to NATS, or the request stream does not exist (is the service running?). */
  CONNECT: "OFA_LOADGEN_ERR_CONNECT",
  /** sent ≠ ok + errored + timed out after the drain wait: something was silently dropped. */
  INVARIANT: "OFA_LOADGEN_ERR_INVARIANT",
} as const;
export type LoadgenErrorCode = (typeof LoadgenErrorCode)[keyof typeof LoadgenErrorCode];

export class LoadgenError extends Error {
  readonly code: LoadgenErrorCode;
  /** Every problem found, for OPTIONS (all reported at once rather than one per run). */
  readonly problems: readonly string[];
  constructor(code: LoadgenErrorCode, message: string, problems: readonly string[] = [], options?: ErrorOptions) {
    super(message, options);
    this.name = "LoadgenError";
    this.code = code;
    this.problems = problems;
  }
}

/**
 * Codes the tool gives to answers that reached it but break the verdict contract. They count as errors
 * (never as ok) so a service that answers wrongly cannot look healthy.
 */
export const InvalidVerdictCode = {
  ID_MISMATCH: "OFA_LOADGEN_VERDICT_ID",
  LABEL: "OFA_LOADGEN_VERDICT_LABEL",
  SCORES: "OFA_LOADGEN_VERDICT_SCORES",
  MODEL: "OFA_LOADGEN_VERDICT_MODEL",
  /** The client rejected with something that is not a coded error (a bug somewhere). */
  UNKNOWN: "OFA_LOADGEN_ERR_UNKNOWN",
} as const;
export type InvalidVerdictCode = (typeof InvalidVerdictCode)[keyof typeof InvalidVerdictCode];
