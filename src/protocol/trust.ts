/**
 * The trust boundary: what a caller's headers and ids may be. Everything a caller sends is data; these checks decide
 * whether a value may reach a subject, a header or a Date before anything is published. Pure.
 *  - A reply subject must be a valid publish subject, at most MAX_REPLY_SUBJECT_CHARS, matching the allow-list
 *    (default `_INBOX.>`): otherwise the service never publishes to it.
 *  - An id (Nats-Msg-Id or the envelope's `id`) must be 1..MAX_ID_CHARS characters without control characters.
 *  - A deadline must be a whole number of epoch milliseconds between 0 and MAX_DEADLINE_MS.
 */
import { Header, quote, requestIdProblem } from "@ofa-entail/client/source";
import { ErrorCode, VerdictError } from "./errors.ts";

export {  payloadHash,  requestIdProblem } from "@ofa-entail/client/source";
const MAX_REPLY_SUBJECT_CHARS = 256;
/** 9999-12-31T23:59:59.999Z: anything later is not a deadline, and Date would not represent it everywhere. */
export const MAX_DEADLINE_MS = 253_402_300_799_999;
export const DEFAULT_REPLY_SUBJECTS: readonly string[] = Object.freeze(["_INBOX.>"]);

const TOKEN = /^[^\s*>.\u0000-\u001f\u007f]+$/;

/** A concrete subject one can publish to: non-empty tokens, no wildcards, no whitespace or control characters. */
export function isPublishSubject(subject: string): boolean {
  return subject.length > 0 && subject.split(".").every((t) => TOKEN.test(t));
}

/** NATS wildcard match: `*` one token, `>` one or more trailing tokens. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length || (p[i] !== "*" && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

/** Problems with one allow-list pattern (config time): it may not cover system or the service's own subjects. */
export function replyPatternProblem(pattern: string): string | undefined {
  const tokens = pattern.split(".");
  const first = tokens[0] ?? "";
  if (!tokens.every((t) => t === "*" || t === ">" || TOKEN.test(t)) || tokens.slice(0, -1).includes(">")) return `${quote(pattern)} is not a subject pattern`;
  if (first === "*" || first === ">" || first.startsWith("$") || first === "ofa") {
    return `${quote(pattern)} would let callers aim verdicts at system ($…) or service (ofa.…) subjects; its first token must be a literal prefix such as _INBOX`;
  }
  return undefined;
}

/** Why a reply subject is refused, or undefined when the service may publish to it. */
export function replySubjectProblem(subject: string, allow: readonly string[]): string | undefined {
  if (subject.length > MAX_REPLY_SUBJECT_CHARS) return `reply subject has ${subject.length} characters; the limit is ${MAX_REPLY_SUBJECT_CHARS}`;
  if (!isPublishSubject(subject)) return `reply subject ${quote(subject)} is not a valid subject`;
  if (!allow.some((p) => subjectMatches(p, subject))) return `reply subject ${quote(subject)} is not allowed (allowed: ${allow.join(", ")})`;
  return undefined;
}

function checkReplySubject(subject: string, allow: readonly string[]): void {
  const problem = replySubjectProblem(subject, allow);
  if (problem) throw new VerdictError(ErrorCode.REPLY_SUBJECT, problem);
}

export function checkRequestId(id: string): void {
  const problem = requestIdProblem(id);
  if (problem) throw new VerdictError(ErrorCode.REQUEST_ID, problem);
}

/** An Ofa-Deadline header or envelope `deadline`: undefined when absent; a VerdictError when it is not a sane deadline. */
export function parseDeadline(value: string | number | undefined, where: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const ms = typeof value === "number" ? value : /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_DEADLINE_MS) {
    const shown = typeof value === "number" ? String(value) : quote(value);
    throw new VerdictError(ErrorCode.DEADLINE_INVALID, `${where} ${shown} is not a whole number of milliseconds since the epoch between 0 and ${MAX_DEADLINE_MS}`);
  }
  return ms;
}

/** What the headers of a stored request say about answering it, once checked; problems[0] is the first refusal. */
export interface TrustedHeaders {
  /** The Nats-Msg-Id when it passed checkRequestId, else `seq-<stream sequence>`. */
  readonly id: string;
  /** The reply subject when it passed the allow-list, else undefined: nothing is ever published to it. */
  readonly replyTo: string | undefined;
  readonly deadlineMs: number | undefined;
  readonly problems: readonly VerdictError[];
}

interface HeaderReader {
  get(key: string): string;
}

/**
 * The one reading of a request's headers that a worker and the dead-letter mover share: a bad id or reply subject
 * is never used, whoever answers.
 */
export function trustedHeaders(headers: HeaderReader | undefined, streamSequence: number, allow: readonly string[]): TrustedHeaders {
  const problems: VerdictError[] = [];
  const attempt = (check: () => void): boolean => {
    try {
      check();
      return false;
    } catch (err) {
      if (!(err instanceof VerdictError)) throw err;
      problems.push(err);
      return true;
    }
  };
  const headerId = headers?.get(Header.MsgId) || undefined;
  const rawReply = headers?.get(Header.ReplyTo) || undefined;
  const id = headerId !== undefined && !attempt(() => checkRequestId(headerId)) ? headerId : `seq-${streamSequence}`;
  const replyTo = rawReply !== undefined && !attempt(() => checkReplySubject(rawReply, allow)) ? rawReply : undefined;
  let deadlineMs: number | undefined;
  attempt(() => (deadlineMs = parseDeadline(headers?.get(Header.Deadline), `${Header.Deadline} header`)));
  return { id, replyTo, deadlineMs, problems };
}
