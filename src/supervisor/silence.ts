/**
 * Judging a worker by its heartbeats (src/consumer/parent-watch.ts sends one about every second from its event
 * loop). A worker silent for longer than the bound (OFA_WORKER_SILENCE_MS) is frozen, wedged or swapping: it is
 * reported (/readyz, /status, ofa_workers_unresponsive) but left alone, since it may recover (a long GC pause).
 * Silent for REPLACE_AFTER bounds, it is killed and restarted: what it holds is redelivered once its leases lapse.
 * A worker not heard from yet (still starting) is not judged.
 */
export const REPLACE_AFTER = 3;

export type Silence = "heard" | "silent" | "replace";

export function judgeSilence(lastHeardAtMs: number | undefined, nowMs: number, boundMs: number): Silence {
  if (lastHeardAtMs === undefined) return "heard";
  const quietMs = nowMs - lastHeardAtMs;
  if (quietMs > REPLACE_AFTER * boundMs) return "replace";
  return quietMs > boundMs ? "silent" : "heard";
}
