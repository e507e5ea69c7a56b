/**
 * The error catalogue: every failure a caller can see, with a stable code.
 * Codes are never reused once retired (same rule as fastify's FST_ERR_* catalogue).
 * `status` follows HTTP semantics so generic NATS-micro clients (Nats-Service-Error-Code) understand it;
 * `retryable` says whether sending the same request again can succeed.
 * docs/errors.md has one anchored entry per code; a test keeps the two in step.
 */
export const ErrorCode = {
  PAYLOAD_JSON: "OFA_ERR_PAYLOAD_JSON",
  PAYLOAD_SCHEMA: "OFA_ERR_PAYLOAD_SCHEMA",
  SCHEMA_VERSION: "OFA_ERR_SCHEMA_VERSION",
  PAYLOAD_TOO_LARGE: "OFA_ERR_PAYLOAD_TOO_LARGE",
  TEXT_EMPTY: "OFA_ERR_TEXT_EMPTY",
  TEXT_TOO_LONG: "OFA_ERR_TEXT_TOO_LONG",
  TOO_MANY_HYPOTHESES: "OFA_ERR_TOO_MANY_HYPOTHESES",
  IMAGE_BASE64: "OFA_ERR_IMAGE_BASE64",
  IMAGE_EMPTY: "OFA_ERR_IMAGE_EMPTY",
  IMAGE_FORMAT: "OFA_ERR_IMAGE_FORMAT",
  IMAGE_DECODE: "OFA_ERR_IMAGE_DECODE",
  IMAGE_TOO_LARGE: "OFA_ERR_IMAGE_TOO_LARGE",
  IMAGE_REF_NOT_FOUND: "OFA_ERR_IMAGE_REF_NOT_FOUND",
  DEADLINE_EXCEEDED: "OFA_ERR_DEADLINE_EXCEEDED",
  DEADLINE_INVALID: "OFA_ERR_DEADLINE_INVALID",
  REPLY_SUBJECT: "OFA_ERR_REPLY_SUBJECT",
  REQUEST_ID: "OFA_ERR_REQUEST_ID",
  ID_CONFLICT: "OFA_ERR_ID_CONFLICT",
  MAX_DELIVERIES: "OFA_ERR_MAX_DELIVERIES",
  MODEL_RUN: "OFA_ERR_MODEL_RUN",
  OVERLOADED: "OFA_ERR_OVERLOADED",
  TIMEOUT: "OFA_ERR_TIMEOUT",
  CONFIG: "OFA_ERR_CONFIG",
  CLIENT_CLOSED: "OFA_ERR_CLIENT_CLOSED",
  INTERNAL: "OFA_ERR_INTERNAL",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorSpec {
  /** HTTP-like status, carried in the Nats-Service-Error-Code header. */
  readonly status: number;
  /** True when the same request may succeed if sent again later. */
  readonly retryable: boolean;
  /** One line for humans; the verdict's message adds the specifics. */
  readonly summary: string;
}

export const ERROR_SPECS: Readonly<Record<ErrorCode, ErrorSpec>> = Object.freeze({
  OFA_ERR_PAYLOAD_JSON: { status: 400, retryable: false, summary: "request payload is not JSON" },
  OFA_ERR_PAYLOAD_SCHEMA: { status: 400, retryable: false, summary: "request does not match the v1 envelope" },
  OFA_ERR_SCHEMA_VERSION: { status: 400, retryable: false, summary: "request envelope version is not supported" },
  OFA_ERR_PAYLOAD_TOO_LARGE: { status: 413, retryable: false, summary: "request payload is larger than allowed" },
  OFA_ERR_TEXT_EMPTY: { status: 400, retryable: false, summary: "text (or premise) is empty or whitespace" },
  OFA_ERR_TEXT_TOO_LONG: { status: 413, retryable: false, summary: "text (or premise) is longer than allowed" },
  OFA_ERR_TOO_MANY_HYPOTHESES: { status: 413, retryable: false, summary: "a policy list has more hypotheses than allowed" },
  OFA_ERR_IMAGE_BASE64: { status: 400, retryable: false, summary: "image is not valid base64" },
  OFA_ERR_IMAGE_EMPTY: { status: 400, retryable: false, summary: "image has zero bytes" },
  OFA_ERR_IMAGE_FORMAT: { status: 415, retryable: false, summary: "image format is not accepted" },
  OFA_ERR_IMAGE_DECODE: { status: 422, retryable: false, summary: "image could not be decoded (corrupt or truncated)" },
  OFA_ERR_IMAGE_TOO_LARGE: { status: 413, retryable: false, summary: "image has more pixels than allowed" },
  OFA_ERR_IMAGE_REF_NOT_FOUND: { status: 404, retryable: false, summary: "object-store image reference not found" },
  OFA_ERR_DEADLINE_EXCEEDED: { status: 504, retryable: false, summary: "request deadline passed before it was served" },
  OFA_ERR_DEADLINE_INVALID: { status: 400, retryable: false, summary: "deadline (Ofa-Deadline or body) is not whole epoch milliseconds in range" },
  OFA_ERR_REPLY_SUBJECT: { status: 400, retryable: false, summary: "Ofa-Reply-To is not a valid subject on the reply allow-list; no reply was sent" },
  OFA_ERR_REQUEST_ID: { status: 400, retryable: false, summary: "request id (Nats-Msg-Id or body id) is empty, too long or has control characters" },
  OFA_ERR_ID_CONFLICT: { status: 409, retryable: false, summary: "this id already has a verdict for a different payload; use a new id" },
  OFA_ERR_MAX_DELIVERIES: { status: 500, retryable: true, summary: "request failed on every delivery attempt" },
  OFA_ERR_MODEL_RUN: { status: 500, retryable: true, summary: "model inference failed" },
  OFA_ERR_OVERLOADED: { status: 503, retryable: true, summary: "request stream is full; try later" },
  OFA_ERR_TIMEOUT: { status: 408, retryable: true, summary: "no verdict arrived within the timeout" },
  OFA_ERR_CLIENT_CLOSED: { status: 499, retryable: true, summary: "the client was closed before the verdict arrived (the request may still be answered: its verdict stream keeps it)" },
  OFA_ERR_CONFIG: { status: 500, retryable: false, summary: "service configuration (settings, model directory) is invalid" },
  OFA_ERR_INTERNAL: { status: 500, retryable: true, summary: "internal error" },
});

/** A code this catalogue does not know (a newer server's): kept as the string it is, with autocompletion of the known ones. */
export type AnyErrorCode = ErrorCode | (string & {});

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_SPECS, value);
}

/**
 * Base error of the project: a stable code, a retryable flag and the cause kept. `retryable` defaults to the
 * catalogue's; an error carrying a code the catalogue does not know (one a newer server sent) must say it.
 */
export class OfaError<C extends AnyErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly retryable: boolean;
  constructor(code: C, message: string, options?: ErrorOptions & { retryable?: boolean }) {
    super(message, options);
    this.name = "OfaError";
    this.code = code;
    // Unknown and not said: retryable, as a 5xx is (the server that sent it knows better; see ClassifyError).
    this.retryable = options?.retryable ?? (isErrorCode(code) ? ERROR_SPECS[code].retryable : true);
  }
}
