/** Outcome counters: one set per run, per phase and per timeline second. */
import type { Outcome } from "./validate.ts";

export interface Counts {
  sent: number;
  ok: number;
  /** Error verdicts, client-side failures and contract-breaking verdicts. */
  errored: number;
  timedOut: number;
  /** Every non-ok outcome by code; timeouts under OFA_ERR_TIMEOUT. */
  byCode: Record<string, number>;
  labels: { yes: number; no: number; maybe: number };
  /** Ok verdicts the service answered from its verdict cache without running the model. */
  cached: number;
}

export function emptyCounts(): Counts {
  return { sent: 0, ok: 0, errored: 0, timedOut: 0, byCode: {}, labels: { yes: 0, no: 0, maybe: 0 }, cached: 0 };
}

const TIMEOUT_CODE = "OFA_ERR_TIMEOUT";

export function countOutcome(c: Counts, outcome: Outcome): void {
  if (outcome.type === "ok") {
    c.ok += 1;
    c.labels[outcome.label] += 1;
    if (outcome.cached) c.cached += 1;
    return;
  }
  const code = outcome.type === "timeout" ? TIMEOUT_CODE : outcome.code;
  c.byCode[code] = (c.byCode[code] ?? 0) + 1;
  if (outcome.type === "timeout") c.timedOut += 1;
  else c.errored += 1;
}

/** Requests that got any answer (ok or error) or gave up: everything but the ones still in flight. */
export function settledCount(c: Counts): number {
  return c.ok + c.errored + c.timedOut;
}

/** Errors and timeouts as a fraction of settled requests; 0 when nothing settled. */
export function errorRate(c: Counts): number {
  const settled = settledCount(c);
  return settled === 0 ? 0 : (c.errored + c.timedOut) / settled;
}
