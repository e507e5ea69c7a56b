/**
 * The one place that decides what a nats.js (@nats-io/* 3.x) failure *is*. Typed errors and JetStream API codes
 * first; text only where the library gives nothing else (a client-side max_payload refusal is a plain
 * InvalidArgumentError; a refused TLS client certificate reaches us as the Node socket error nats.js wraps or copies).
 */
import { errors } from "@nats-io/transport-node";
import { JetStreamApiError } from "@nats-io/jetstream";
import { ErrorCode } from "../protocol/errors.ts";

export type NatsFailure =
  /** The stream (or the account or server behind it) has no room: try later. */
  | "full"
  /** The message is larger than the stream's max_msg_size or the connection's max_payload. */
  | "too-large"
  /** A timeout, no responders (no stream leader yet, an election), a disconnect or a draining connection. */
  | "transient"
  | "other";

/** JetStream API error codes (nats-server errors.json) meaning "no room left". */
export const FULL_API_CODES: ReadonlySet<number> = new Set([
  10077, // JSStreamStoreFailedF: "maximum messages exceeded", "maximum bytes exceeded" on a discard-new stream
  10023, // JSInsufficientResourcesErr: "insufficient resources"
  10002, // JSAccountResourcesExceededErr: "resource limits exceeded for account"
  10047, // JSStorageResourcesExceededErr
  10028, // JSMemoryResourcesExceededErr
  10078, // JSStreamStoreFailedF's sibling on older servers: "maximum bytes exceeded"
  10027, // JSStreamResourcesExceeded
]);
/** JSStreamMessageExceedsMaximumErr: "message size exceeds maximum allowed" (the stream's max_msg_size). */
export const MESSAGE_TOO_LARGE_API_CODE = 10054;

/** The error and its causes, outermost first (nats.js wraps, e.g. JetStreamNotEnabled ← RequestError ← NoResponders). */
function chain(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err; e !== undefined && e !== null && out.length < 8; e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}

export function classifyNatsError(err: unknown): NatsFailure {
  for (const e of chain(err)) {
    if (e instanceof JetStreamApiError) {
      if (FULL_API_CODES.has(e.code)) return "full";
      if (e.code === MESSAGE_TOO_LARGE_API_CODE) return "too-large";
      // 503 with any other code: JetStream temporarily unavailable (no leader during an election).
      return e.status === 503 ? "transient" : "other";
    }
    if (e instanceof errors.InvalidArgumentError && /max_payload/.test(e.message)) return "too-large";
    if (
      e instanceof errors.TimeoutError ||
      e instanceof errors.NoRespondersError ||
      e instanceof errors.RequestError ||
      e instanceof errors.DrainingConnectionError
    ) {
      return "transient";
    }
  }
  return "other";
}

/** A request that got no answer in time (the broker, or JetStream behind it, did not answer). */
export function isTimeout(err: unknown): boolean {
  return chain(err).some((e) => e instanceof errors.TimeoutError);
}

/** Node's TLS codes for a client certificate the server refused (or the reset that races the alert). */
const REFUSED_CLIENT_CERT_CODE = /^(ERR_SSL_\w*ALERT_(BAD|UNKNOWN)_CERTIFICATE|ERR_SSL_\w*ALERT_CERTIFICATE_REQUIRED|ECONNRESET)$/;
const REFUSED_CLIENT_CERT_TEXT = /alert (bad|unknown) certificate|certificate required|ECONNRESET/i;

/** True when a failed connect looks like the server refusing our client certificate. */
export function isRefusedClientCertificate(err: unknown): boolean {
  for (const e of chain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && REFUSED_CLIENT_CERT_CODE.test(code)) return true;
  }
  // nats.js 3.4 copies the socket error's text into its own ConnectionError and drops the code.
  return chain(err).some((e) => e instanceof Error && REFUSED_CLIENT_CERT_TEXT.test(e.message));
}

/**
 * A plain Error that still says "full": nats.js reports some JetStream refusals (the object store's chunk publishes,
 * older servers) as a bare Error carrying the API code or only the server's text.
 */
const FULL_TEXT = /maximum (messages|bytes)|resource limits|resources exceeded|store failed|insufficient (storage )?resources|no space/i;
const TOO_LARGE_TEXT = /message size exceeds maximum|maximum payload/i;

/**
 * What a failed JetStream publish means for a caller: a full stream or store is OFA_ERR_OVERLOADED (try later;
 * distinct from a timeout), an oversize message OFA_ERR_PAYLOAD_TOO_LARGE, anything else OFA_ERR_INTERNAL. The SDK,
 * the CLI and the front door all answer with it.
 */
export function publishFailureCode(err: unknown): ErrorCode {
  const kind = classifyNatsError(err);
  if (kind === "full") return ErrorCode.OVERLOADED;
  if (kind === "too-large") return ErrorCode.PAYLOAD_TOO_LARGE;
  for (const e of chain(err)) {
    const code = Number((e as { code?: unknown } | undefined)?.code);
    const message = e instanceof Error ? e.message : String(e);
    if (FULL_API_CODES.has(code) || FULL_TEXT.test(message)) return ErrorCode.OVERLOADED;
    if (code === MESSAGE_TOO_LARGE_API_CODE || TOO_LARGE_TEXT.test(message)) return ErrorCode.PAYLOAD_TOO_LARGE;
  }
  return ErrorCode.INTERNAL;
}
