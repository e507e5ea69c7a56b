/**
 * The one place the retry policy lives: what happens to a request given how its processing ended.
 * Pure. Bad input is final (error verdict, term, dead letter) — never retried. A deadline that passed is final
 * without a dead letter (nothing was wrong with the request). Transient failures are nak'ed with a growing delay
 * until the last delivery, which ends in OFA_ERR_MAX_DELIVERIES and a dead letter: nothing is retried forever
 * and nothing is dropped silently.
 */
import { ErrorCode, OfaError, type ErrorCode as Code } from "../protocol/errors.ts";

export type Outcome =
  | { readonly kind: "answered" }
  | { readonly kind: "failed"; readonly error: unknown };

export type Settlement =
  | { readonly kind: "ack" }
  | { readonly kind: "term"; readonly code: Code; readonly message: string; readonly deadLetter: boolean }
  | { readonly kind: "nak"; readonly delayMs: number };

export interface RetryPolicy {
  readonly maxDeliver: number;
  readonly ackWaitMs: number;
}

const FIRST_RETRY_DELAY_MS = 250;

export function decideSettlement(outcome: Outcome, deliveries: number, policy: RetryPolicy): Settlement {
  if (outcome.kind === "answered") return { kind: "ack" };
  const { error } = outcome;
  if (error instanceof OfaError && !error.retryable) {
    return { kind: "term", code: error.code, message: error.message, deadLetter: error.code !== ErrorCode.DEADLINE_EXCEEDED };
  }
  const message = error instanceof Error ? error.message : String(error);
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

/** 250 ms, 500 ms, 1 s … capped at the ack wait. */
export function retryDelayMs(deliveries: number, ackWaitMs: number): number {
  return Math.min(ackWaitMs, FIRST_RETRY_DELAY_MS * 2 ** Math.max(0, deliveries - 1));
}
