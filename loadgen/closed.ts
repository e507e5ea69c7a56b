/**
 * Closed model: N users, started `spawnRate` per second, each sending one request, waiting for its
 * answer, thinking for a uniform random time in [min, max], and repeating (Locust's User with
 * `wait_time = between(min, max)`; the task runs before the first wait). Latency is measured from the
 * actual send: a closed loop sends less when the service is slow, so stalls are under-represented;
 * that is the model's nature, and why the open model exists.
 */
import { budgetSpent, type PhaseContext } from "./context.ts";
import { between } from "./random.ts";
import { sendOne } from "./send.ts";

/**
 * Spawns the users and returns when the phase's sending time is over (users finish their last request on their own),
 * or earlier once every user has stopped: a spent request budget (maxRequests) ends the phase at its last answer.
 */
export async function runClosed(ctx: PhaseContext, users: number, startAt: number, durationMs: number): Promise<void> {
  const stopAt = startAt + durationMs;
  const spawnIntervalMs = 1000 / ctx.spawnRatePerSec;
  const loops: Promise<void>[] = [];
  for (let u = 0; u < users && !ctx.signal.aborted && !budgetSpent(ctx); u++) {
    await ctx.sleeper.sleep(startAt + u * spawnIntervalMs - ctx.clock.now());
    if (ctx.clock.now() >= stopAt) break;
    const loop = userLoop(ctx, stopAt);
    ctx.inFlight.track(loop);
    loops.push(loop);
  }
  await ctx.sleeper.sleep(stopAt - ctx.clock.now(), Promise.all(loops));
}

async function userLoop(ctx: PhaseContext, stopAt: number): Promise<void> {
  while (!ctx.signal.aborted && ctx.clock.now() < stopAt && !budgetSpent(ctx)) {
    await sendOne(ctx, ctx.clock.now());
    const thinkMs = between(ctx.random, ctx.thinkMs.minMs, ctx.thinkMs.maxMs);
    await ctx.sleeper.sleep(Math.min(thinkMs, stopAt - ctx.clock.now()));
  }
}
