/**
 * The one place the retry policy lives: what happens to a request given how its processing ended.
 * Pure. Bad input is final (error verdict, term, dead letter) — never retried. A deadline that passed is final
 * without a dead letter (nothing was wrong with the request). Only known transients — a retryable OfaError, a broker
 * or connection failure, a timeout — are nak'ed, with a growing delay until the last delivery, which ends in
 * OFA_ERR_MAX_DELIVERIES and a dead letter. Anything else is a fault no redelivery can fix: OFA_ERR_INTERNAL at
 * once, with a dead letter. Nothing is retried forever and nothing is dropped silently.
 */
import { ErrorCode, OfaError, type ErrorCode as Code } from "../protocol/errors.ts";
import type { ListVerdict, OkVerdict } from "../protocol/verdict.ts";
import type { Published } from "../nats/publish.ts";

/** How processing ended: answered (with the verdict to publish), or failed. */
export type Answered = { readonly kind: "answered"; readonly verdict: OkVerdict | ListVerdict };
export type Failed = { readonly kind: "failed"; readonly error: unknown };
export type Outcome = Answered | Failed;

export type Ack = { readonly kind: "ack" };
export type Term = { readonly kind: "term"; readonly code: Code; readonly message: string; readonly deadLetter: boolean };
export type Nak = { readonly kind: "nak"; readonly delayMs: number };
export type Settlement = Ack | Term | Nak;

/** How publishing the verdict went: a new verdict, the id's earlier verdict (same payload), or a conflict. */
export type { Published };

export interface RetryPolicy {
  readonly maxDeliver: number;
  readonly ackWaitMs: number;
}

const FIRST_RETRY_DELAY_MS = 250;
/** Errors of nats.js / Node that a reconnect, a leader election or time can cure. */
const TRANSIENT_NAMES = new Set([
  "TimeoutError", "ConnectionError", "ClosedConnectionError", "DrainingConnectionError", "RequestError", "NoResponders",
  "JetStreamNotEnabled", "JetStreamStatusError",
]);
const TRANSIENT_SYSTEM_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EAI_AGAIN"]);

/** Only an answered request is acked (so an ack always has a verdict to publish); a failed one is termed or nak'ed. */
export function decideSettlement(outcome: Answered, deliveries: number, policy: RetryPolicy): Ack;
export function decideSettlement(outcome: Failed, deliveries: number, policy: RetryPolicy): Term | Nak;
export function decideSettlement(outcome: Outcome, deliveries: number, policy: RetryPolicy): Settlement;
export function decideSettlement(outcome: Outcome, deliveries: number, policy: RetryPolicy): Settlement {
  if (outcome.kind === "answered") return { kind: "ack" };
  const { error } = outcome;
  if (error instanceof OfaError && !error.retryable) {
    return { kind: "term", code: error.code, message: error.message, deadLetter: error.code !== ErrorCode.DEADLINE_EXCEEDED };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (!isTransient(error)) {
    return { kind: "term", code: ErrorCode.INTERNAL, message: `unexpected failure, not retried: ${message}`, deadLetter: true };
  }
  if (deliveries >= policy.maxDeliver) {
    return {
      kind: "term",
      code: ErrorCode.MAX_DELIVERIES,
      message: `failed on all ${deliveries} deliveries; last error: ${message}`,
      deadLetter: true,
    };
  }
  return { kind: "nak", delayMs: retryDelayMs(deliveries, policy.ackWaitMs) };
}

/**
 * After the verdict was published: a conflict (the id already has a verdict for another payload) is the caller's
 * mistake, final and dead-lettered; when the id's earlier verdict (same payload) stood in for this one, the request
 * settles as it would have, without a second dead letter — unless this is a redelivery (`redelivered`): then the
 * earlier verdict may be this request's own, published by a delivery whose dead letter then failed, and the dead letter
 * is written again (the dead-letter stream drops a second copy within its de-duplication window).
 */
export function settleAfterPublish<S extends Settlement>(decision: S, published: Published, redelivered = false): S | Term {
  if (published === "new") return decision;
  // Already answered (and dead-lettered if it had to be) when the id was first seen: nothing new to record.
  if (published === "existing") return decision.kind === "term" && !redelivered ? { ...decision, deadLetter: false } : decision;
  return { kind: "term", code: ErrorCode.ID_CONFLICT, message: "this id already has a verdict for a different payload", deadLetter: true };
}

/** A retryable OfaError, or a broker/connection/timeout failure (also when it is the cause of the error). */
export function isTransient(error: unknown, depth = 0): boolean {
  if (error instanceof OfaError) return error.retryable;
  if (!(error instanceof Error) || depth > 3) return false;
  if (TRANSIENT_NAMES.has(error.name)) return true;
  if (error.name === "JetStreamApiError" && Number((error as { status?: unknown }).status) >= 500) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && TRANSIENT_SYSTEM_CODES.has(code)) return true;
  return isTransient(error.cause, depth + 1);
}

/** 250 ms, 500 ms, 1 s … capped at the ack wait. */
export function retryDelayMs(deliveries: number, ackWaitMs: number): number {
  return Math.min(ackWaitMs, FIRST_RETRY_DELAY_MS * 2 ** Math.max(0, deliveries - 1));
}
