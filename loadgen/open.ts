/**
 * Open model: requests arrive on a fixed schedule (every 1/rate s, like wrk2's constant throughput),
 * whether or not earlier ones were answered. Each request's latency is measured from its slot in the
 * schedule, not from when it actually went out, so a service (or generator) stall shows up in full
 * instead of quietly slowing the arrivals (coordinated omission; giltene/wrk2 README).
 */
import { budgetSpent, type PhaseContext } from "./context.ts";
import { sendOne } from "./send.ts";

/** Sends floor(rate × duration) requests starting at `startAt`; returns at the end of the phase, or once the run's request budget is sent. */
export async function runOpen(ctx: PhaseContext, ratePerSec: number, startAt: number, durationMs: number): Promise<void> {
  const intervalMs = 1000 / ratePerSec;
  // The epsilon keeps 10/s × 3 s at 30 slots despite floating-point products like 29.999999.
  const slots = Math.floor((durationMs * ratePerSec) / 1000 + 1e-9);
  let next = 0;
  while (next < slots && !ctx.signal.aborted) {
    next = fireDueSlots(ctx, startAt, intervalMs, next, slots);
    if (next < slots) await ctx.sleeper.sleep(startAt + next * intervalMs - ctx.clock.now());
  }
  if (!budgetSpent(ctx)) await ctx.sleeper.sleep(startAt + durationMs - ctx.clock.now());
}

/**
 * Fires every slot whose time has come. After a late wake-up (timer slack, a busy event loop) several
 * are due at once: they all go now and keep their intended times, so the lateness is charged to latency.
 */
function fireDueSlots(ctx: PhaseContext, startAt: number, intervalMs: number, first: number, slots: number): number {
  const now = ctx.clock.now();
  let slot = first;
  for (; slot < slots && startAt + slot * intervalMs <= now; slot++) {
    if (budgetSpent(ctx)) return slots;
    if (ctx.recorder.inFlight >= ctx.maxInFlight) {
      ctx.recorder.dropped(); // like k6's dropped_iterations: never sent, so outside sent = answered + …
      continue;
    }
    ctx.inFlight.track(sendOne(ctx, startAt + slot * intervalMs));
  }
  return slot;
}
