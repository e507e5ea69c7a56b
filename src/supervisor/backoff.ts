/** Restart backoff for crashed workers: doubles per consecutive crash, capped; a worker that stayed up resets it. */
const MAX_RESTART_DELAY_MS = 30_000;
/** A worker alive this long is considered healthy again: its next crash starts from the first delay. */
export const STABLE_AFTER_MS = 60_000;

export function restartDelayMs(consecutiveCrashes: number, firstDelayMs: number): number {
  if (consecutiveCrashes <= 0) return 0;
  return Math.min(MAX_RESTART_DELAY_MS, firstDelayMs * 2 ** (consecutiveCrashes - 1));
}
