import { createHash } from "node:crypto";
/**
 * Every stream, consumer and subject name on the wire. Nothing else spells them.
 * Layout (see README "Subjects and streams"):
 *   ofa.ve.req.<lane>       requests, stream OFA_VE_REQ (work-queue retention)
 *   ofa.ve.verdict.<id>     verdicts, stream OFA_VE_VERDICTS (limits retention, for pipelines)
 *   ofa.ve.dlq.<code>       dead letters, stream OFA_VE_DLQ
 */
export const STREAMS = Object.freeze({
  requests: "OFA_VE_REQ",
  verdicts: "OFA_VE_VERDICTS",
  deadLetters: "OFA_VE_DLQ",
  /** Captures JetStream MAX_DELIVERIES advisories so none is missed while the supervisor is down. */
  advisories: "OFA_VE_ADVISORIES",
} as const);

/** Priority lanes: interactive is served before bulk, bulk is never starved. */
export const Lane = { interactive: "interactive", bulk: "bulk" } as const;
export type Lane = (typeof Lane)[keyof typeof Lane];
export const LANES: readonly Lane[] = Object.freeze([Lane.interactive, Lane.bulk]);

export const SUBJECT_PREFIX = "ofa.ve";
/** Object store bucket for images too large for one message. The only bucket a request may reference: the worker
 *  deletes the object once answered, so any other bucket would let a caller read and delete foreign objects. */
export const IMAGE_BUCKET = "ofa-ve-images";
/** KV bucket of the verdict cache (src/consumer/cache.ts); provisioned by the supervisor. */
export const CACHE_BUCKET = "ofa-ve-verdict-cache";
export const DLQ_SUBJECTS = `${SUBJECT_PREFIX}.dlq.>`;
/** Core request-reply front door (NATS services framework). */
export const SERVICE_SUBJECT = `${SUBJECT_PREFIX}.classify`;
export const SERVICE_NAME = "ofa-entail";

export function requestSubject(lane: Lane): string {
  return `${SUBJECT_PREFIX}.req.${lane}`;
}

/** The request stream's subjects: exactly the served lanes, so a publish to any other subject is refused (no
 *  stream answers it) instead of being kept where no consumer will ever deliver it. */
export const REQUEST_SUBJECTS: readonly string[] = Object.freeze(LANES.map(requestSubject));

/** The durable pull consumer that serves one lane. */
export function consumerName(lane: Lane): string {
  return `ofa-ve-${lane}`;
}

const TOKEN_UNSAFE = /[^A-Za-z0-9_-]/g;

/**
 * Request ids become subject tokens; anything outside [A-Za-z0-9_-] is replaced so that
 * a caller-chosen id can never inject wildcards (`*`, `>`) or extra tokens (`.`).
 */
export function subjectToken(id: string): string {
  const token = id.replace(TOKEN_UNSAFE, "_");
  return token.length > 0 ? token : "_";
}

const TOKEN_SAFE_ID = /^[A-Za-z0-9_-]+$/;

/**
 * The verdict subject of a request id: the id itself when it is made of [A-Za-z0-9_-] only (UUIDs, the SDK's ids),
 * else `=` and the base64url sha256 of the id. One-to-one (`=` never appears in a verbatim id), so two different ids
 * never share a subject — the verdict stream keeps one verdict per subject — and bounded, so no id can make a
 * subject longer than a control line allows.
 */
export function verdictSubject(requestId: string): string {
  const token = TOKEN_SAFE_ID.test(requestId) && requestId.length <= 128 ? requestId : `=${createHash("sha256").update(requestId).digest("base64url")}`;
  return `${SUBJECT_PREFIX}.verdict.${token}`;
}

export function deadLetterSubject(code: string): string {
  return `${SUBJECT_PREFIX}.dlq.${subjectToken(code)}`;
}
