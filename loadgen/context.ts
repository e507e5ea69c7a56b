/** What a phase runner needs: the send context plus pacing settings and the run's stop signal. */
import type { RangeMs } from "./parse.ts";
import type { Random } from "./random.ts";
import type { SendContext } from "./send.ts";
import type { InFlight, Sleeper } from "./timing.ts";

export interface PhaseContext extends SendContext {
  readonly inFlight: InFlight;
  readonly random: Random;
  /** Aborted on SIGINT / by the caller: stop sending, then drain and report. */
  readonly signal: AbortSignal;
  readonly sleeper: Sleeper;
  readonly maxInFlight: number;
  readonly spawnRatePerSec: number;
  readonly thinkMs: RangeMs;
  /** Requests the whole run may still send (LoadInput.maxRequests); Infinity without a budget. */
  readonly maxRequests: number;
}

/** True once the run has sent its whole request budget. */
export function budgetSpent(ctx: PhaseContext): boolean {
  return ctx.recorder.totals.sent >= ctx.maxRequests;
}
