/**
 * How long shutdown may take past the drain grace (OFA_DRAIN_GRACE_MS), whatever the broker does. The grace is
 * counted from the first signal; these margins only cover closing steps, each bounded (src/runtime/within.ts).
 *
 *   signal ── grace ──┬─ worker flushes and closes (≤ CLOSE_STEP_MS each), exits by itself by WORKER_EXIT_MARGIN_MS
 *                     ├─ the supervisor SIGKILLs a worker still there at WORKER_KILL_MARGIN_MS
 *                     └─ `serve` has exited by SHUTDOWN_MARGIN_MS (a hard timer, if a closing step is still stuck)
 */
export const CLOSE_STEP_MS = 1_000;
export const WORKER_EXIT_MARGIN_MS = 2_500;
export const WORKER_KILL_MARGIN_MS = 3_000;
export const SHUTDOWN_MARGIN_MS = 5_000;

/**
 * How often a worker heartbeats its supervisor, and how often the supervisor looks at its workers' silence, given
 * the silence after which a worker is reported (OFA_WORKER_SILENCE_MS): four times per bound, 100 ms to 1 s.
 */
export function heartbeatEveryMs(silenceMs: number): number {
  return Math.max(100, Math.min(1_000, Math.floor(silenceMs / 4)));
}
