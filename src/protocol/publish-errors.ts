/**
 * What a failed JetStream publish means for the caller, from the error nats.js reports. A full stream or store is
 * OFA_ERR_OVERLOADED (try later; distinct from a timeout), an oversize message OFA_ERR_PAYLOAD_TOO_LARGE, anything
 * else OFA_ERR_INTERNAL. Used by the SDK and the front door alike.
 */
import { ErrorCode } from "./errors.ts";

/** JetStream API error codes of a full stream or store: max messages, max bytes, max msgs per subject, storage,
 *  resources. */
const FULL_API_CODES = new Set([10077, 10078, 10047, 10023, 10028, 10027]);
const FULL_TEXT = /maximum (messages|bytes)|resource limits|resources exceeded|store failed|insufficient (storage )?resources|no space/i;
const TOO_LARGE_TEXT = /max_payload|message size exceeds maximum|maximum payload/i;

export function publishFailureCode(err: unknown): ErrorCode {
  const message = err instanceof Error ? err.message : String(err);
  const apiCode = Number((err as { code?: unknown } | undefined)?.code);
  if (FULL_API_CODES.has(apiCode) || FULL_TEXT.test(message)) return ErrorCode.OVERLOADED;
  if (TOO_LARGE_TEXT.test(message)) return ErrorCode.PAYLOAD_TOO_LARGE;
  return ErrorCode.INTERNAL;
}
