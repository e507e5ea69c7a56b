/**
 * The programmatic entry: `runLoad(input)` validates the options, prepares the workload, connects,
 * runs every phase (draining in between), and returns the report, writing report.json and report.html
 * when an out dir is set. The CLI (main.ts), the tests and the benchmarks all come through here.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { OfaClient } from "@ofa-entail/client/source";
import { STREAMS } from "@ofa-entail/client/source";
import type { PhaseContext } from "./context.ts";
import { LoadgenError, LoadgenErrorCode } from "./errors.ts";
import { loadImages } from "./images.ts";
import { runClosed } from "./closed.ts";
import { runOpen } from "./open.ts";
import { resolveOptions, type LoadInput, type LoadOptions } from "./options.ts";
import { takeSnapshot, type ProgressSink } from "./progress.ts";
import { seededRandom } from "./random.ts";
import { Recorder, type Clock } from "./recorder.ts";
import { buildReport, type Report } from "./report.ts";
import { idSequence, type Sender } from "./send.ts";
import { InFlight, Sleeper } from "./timing.ts";
import type { Outcome } from "./validate.ts";
import { createWorkload, DEFAULT_TEXTS, loadTexts, type Workload } from "./workload.ts";
import { writeReport } from "./write.ts";

/** Extra time past --timeout for the last requests to settle: the SDK's own timer ends each by its timeout. */
const DRAIN_GRACE_MS = 2000;
const PROGRESS_INTERVAL_MS = 1000;

export interface RunDeps {
  /** An open connection to use (kept open); default: connect to options.natsUrl and close at the end. */
  readonly nc?: NatsConnection;
  /** Stops sending early; the run still drains and reports. */
  readonly signal?: AbortSignal;
  readonly progress?: ProgressSink;
  readonly clock?: Clock;
  /** Told of every request as it settles, e.g. to keep per-verdict arrival times (bench/load.ts). */
  readonly onSettled?: (outcome: Outcome) => void;
}

export async function runLoad(input: LoadInput, deps: RunDeps = {}): Promise<Report> {
  const options = resolveOptions(input);
  const workload = await prepareWorkload(options);
  const nc = deps.nc ?? (await connectNats(options.natsUrl));
  try {
    await checkRequestStream(nc);
    const client = new OfaClient(nc);
    try {
      return await runWith(options, workload, client, deps);
    } finally {
      client.close();
    }
  } finally {
    if (!deps.nc) await nc.drain();
  }
}

/** Throws LoadgenError(INVARIANT) when the report's books do not balance: the CLI exits non-zero on it. */
export function assertAccounting(report: Report): void {
  const a = report.accounting;
  if (a.holds) return;
  throw new LoadgenError(
    LoadgenErrorCode.INVARIANT,
    `accounting does not balance: sent ${a.sent} ≠ ok ${a.ok} + errored ${a.errored} + timed out ${a.timedOut}` +
      ` (in flight at end ${a.inFlightAtEnd}, strays ${a.strays})`,
  );
}

async function runWith(options: LoadOptions, workload: Workload, sender: Sender, deps: RunDeps): Promise<Report> {
  const clock = deps.clock ?? performance;
  const startedAt = new Date();
  const recorder = new Recorder(clock, options.phases, options.warmupMs);
  const signal = deps.signal ?? new AbortController().signal;
  const ctx: PhaseContext = {
    sender,
    workload,
    recorder,
    clock,
    timeoutMs: options.timeoutMs,
    lane: options.lane,
    uniqueImages: options.uniqueImages,
    nextId: idSequence(randomBytes(4).toString("hex")),
    inFlight: new InFlight(),
    random: seededRandom(options.seed + 1),
    signal,
    sleeper: new Sleeper(signal),
    maxInFlight: options.maxInFlight,
    spawnRatePerSec: options.spawnRatePerSec,
    thinkMs: options.thinkMs,
    maxRequests: options.maxRequests ?? Infinity,
    onSettled: deps.onSettled,
  };
  let phaseName = options.phases[0]?.name ?? "";
  const ticker = setInterval(() => {
    recorder.sample();
    deps.progress?.(takeSnapshot(recorder, clock.now(), phaseName));
  }, PROGRESS_INTERVAL_MS);
  try {
    for (const phase of options.phases) {
      if (ctx.signal.aborted) break;
      phaseName = phase.name;
      await runPhase(ctx, phase, options.timeoutMs + DRAIN_GRACE_MS);
    }
  } finally {
    clearInterval(ticker);
    ctx.sleeper.dispose();
  }
  recorder.sample();
  deps.progress?.(takeSnapshot(recorder, clock.now(), phaseName), true);
  const report = buildReport({ options, recorder, workload, startedAt, finishedAt: new Date() });
  if (options.outDir) await writeReport(report, options.outDir);
  return report;
}

async function runPhase(ctx: PhaseContext, phase: LoadOptions["phases"][number], drainBoundMs: number): Promise<void> {
  const startAt = ctx.recorder.beginPhase(phase.index);
  if (phase.target.kind === "open") await runOpen(ctx, phase.target.ratePerSec, startAt, phase.durationMs);
  else await runClosed(ctx, phase.target.users, startAt, phase.durationMs);
  ctx.recorder.endPhase(phase.index);
  // Drain before the next step so one step's backlog is not charged to the next; a request that
  // outlives the bound stays in flight and the accounting reports it.
  await ctx.inFlight.drain(drainBoundMs);
}

async function prepareWorkload(options: LoadOptions): Promise<Workload> {
  const random = seededRandom(options.seed);
  const images = await loadImages(options.images, random);
  const texts = await loadTexts(options.texts, DEFAULT_TEXTS, "texts");
  const premises = await loadTexts(options.premises, [], "premises");
  return createWorkload(images, texts, premises, random, options.hypotheses);
}

async function connectNats(url: string): Promise<NatsConnection> {
  try {
    return await connect({ servers: url.split(",").map((u) => u.trim()), name: "ofa-entail-loadgen" });
  } catch (err) {
    throw new LoadgenError(LoadgenErrorCode.CONNECT, `cannot connect to NATS at ${url}: ${(err as Error).message}`, [], { cause: err });
  }
}

/** Without the request stream every publish fails; say so once, up front, instead of counting thousands of errors. */
async function checkRequestStream(nc: NatsConnection): Promise<void> {
  try {
    await (await jetstreamManager(nc)).streams.info(STREAMS.requests);
  } catch (err) {
    throw new LoadgenError(
      LoadgenErrorCode.CONNECT,
      `stream ${STREAMS.requests} not found on the server (${(err as Error).message}); is ofa-entail running (npm start)?`,
      [],
      { cause: err },
    );
  }
}
