/**
 * One worker process's consumer: pull (both lanes) → hold and heartbeat → admit → batch → infer → publish → settle.
 * Lifecycle: starting → ready → draining → closed. `drain()` stops pulling, lets held requests finish within the
 * grace period, and is idempotent. Requests still held when the grace runs out are left un-acked: JetStream
 * redelivers them to another worker, so a drain never loses a request.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, type Consumer, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import type { Config } from "../config/index.ts";
import type { Logger } from "../log/logger.ts";
import type { WorkerMetrics } from "../metrics/definitions.ts";
import type { AnswerScores, Model, RowsResult } from "../model/index.ts";
import { ErrorCode, LANES, OfaError, STREAMS, VerdictError, consumerName, errorVerdict, type Lane, type ListVerdict, type OkVerdict, type RequestLimits } from "../protocol/index.ts";
import { within } from "../runtime/within.ts";
import { admit, isExpired, type AdmissionDeps } from "./admission.ts";
import { batchDueInMs, ReadyQueue } from "./batcher.ts";
import type { VerdictCache } from "./cache.ts";
import { HeldSet } from "./held.ts";
import { ImageStore } from "./images.ts";
import { jobFromMessage, type Job } from "./job.ts";
import { LanePuller, type Room } from "./puller.ts";
import { VerdictPublisher } from "../nats/publish.ts";
import { decideSettlement, settleAfterPublish, type Outcome, type Term } from "./settle.ts";
import { Signal } from "./signal.ts";
import { cacheAnswers, listVerdict, nextRows, recordRun, rowsLeft } from "./work.ts";

export type ConsumerState = "starting" | "ready" | "draining" | "closed";

export interface ConsumerSettings {
  readonly workerName: string;
  readonly maxBatch: number;
  readonly maxBatchDelayMs: number;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  readonly maxImageBytes: number;
  readonly limits: RequestLimits;
  /** Reply-subject allow-list (OFA_REPLY_SUBJECTS). */
  readonly replySubjects: readonly string[];
}

/** The consumer's settings, taken from the validated config (one place, so nothing re-derives them differently). */
export function consumerSettings(config: Config, workerId: number): ConsumerSettings {
  return {
    workerName: `w${workerId}`,
    maxBatch: config.maxBatch || 8, // 0 (auto) is resolved by the supervisor; 8 only for a worker started without one
    maxBatchDelayMs: config.maxBatchDelayMs,
    ackWaitMs: config.ackWaitMs,
    maxDeliver: config.maxDeliver,
    maxImageBytes: config.maxImageBytes,
    limits: { maxPayloadBytes: config.maxPayloadBytes, maxTextChars: config.maxTextChars, maxHypotheses: config.maxHypotheses },
    replySubjects: config.replySubjects,
  };
}

export interface ConsumerDeps {
  readonly nc: NatsConnection;
  readonly model: Model;
  readonly cache: VerdictCache | undefined;
  readonly logger: Logger;
  readonly metrics: WorkerMetrics;
  readonly settings: ConsumerSettings;
  readonly now?: () => number;
}

const BIND_RETRY_MS = 500;

export class EntailmentConsumer {
  state: ConsumerState = "starting";
  private readonly js: JetStreamClient;
  private readonly held: HeldSet;
  private readonly ready = new ReadyQueue<Job>();
  private readonly publisher: VerdictPublisher;
  private readonly images: ImageStore;
  private readonly admission: AdmissionDeps;
  private readonly pullers: LanePuller[] = [];
  private readonly roomChanged = new Signal();
  private inferring = false;
  /** Requests admitted and still being decoded/tokenised. */
  private preparing = 0;
  /** Moving average of session.run time, ms: how long a request left out of a batch would wait. */
  private recentRunMs = 0;
  private batchTimer: NodeJS.Timeout | undefined;
  private drained: Promise<number> | undefined;
  private readonly now: () => number;
  /** Requests a worker holds at most: one batch running, one forming (preprocessing overlaps inference). */
  readonly capacity: number;

  private readonly deps: ConsumerDeps;
  constructor(deps: ConsumerDeps) {
    this.deps = deps;
    this.js = jetstream(deps.nc);
    this.now = deps.now ?? Date.now;
    this.capacity = 2 * deps.settings.maxBatch;
    this.held = new HeldSet(Math.max(100, Math.floor(deps.settings.ackWaitMs / 3)), (n) => {
      deps.metrics.inFlight.set(n);
      this.roomChanged.notify();
    });
    this.publisher = new VerdictPublisher(deps.nc, this.js);
    this.images = new ImageStore(deps.nc, deps.settings.maxImageBytes);
    this.admission = { model: deps.model, images: this.images, cache: deps.cache, limits: deps.settings.limits, now: this.now };
  }

  /** Binds the lane consumers (waiting for them to be provisioned) and starts pulling. */
  async start(): Promise<void> {
    this.held.startHeartbeats();
    for (const lane of LANES) {
      const consumer = await this.bind(lane);
      if (this.state !== "starting") return;
      this.pullers.push(new LanePuller(lane, consumer, this.room(), (l, m) => this.onMessage(l, m), this.deps.logger));
    }
    this.state = "ready";
    for (const p of this.pullers) p.start();
  }

  private async bind(lane: Lane): Promise<Consumer> {
    for (;;) {
      try {
        return await this.js.consumers.get(STREAMS.requests, consumerName(lane));
      } catch (err) {
        if (this.state !== "starting") throw err;
        this.deps.logger.warn({ err, lane }, "request consumer not available yet; retrying");
        await new Promise((r) => setTimeout(r, BIND_RETRY_MS));
      }
    }
  }

  /**
   * Interactive may fill the whole capacity; bulk holds at most one batch, so it can never crowd interactive out of a
   * worker. Open fetches reserve room in their own lane only: an idle interactive fetch must not block bulk pulls.
   * So a worker holds at most capacity + maxBatch requests, every one of them heartbeated.
   */
  private room(): Room {
    const reserved: Record<Lane, number> = { interactive: 0, bulk: 0 };
    const maxBatch = this.deps.settings.maxBatch;
    return {
      available: (lane) => {
        const free = this.capacity - this.held.size;
        return (lane === "bulk" ? Math.min(free, maxBatch - this.bulkHeld) : free) - reserved[lane];
      },
      reserve: (lane, n) => (reserved[lane] += n),
      release: (lane, n) => {
        reserved[lane] -= n;
        if (n > 0) this.roomChanged.notify();
      },
      changed: this.roomChanged,
    };
  }

  private bulkHeld = 0;

  /** For the metrics: requests being preprocessed (or waiting for the resize thread), and prepared ones waiting for a batch. */
  get queueDepths(): { preprocessing: number; batching: number } {
    return { preprocessing: this.preparing, batching: this.ready.size };
  }

  private onMessage(lane: Lane, msg: JsMsg): void {
    if (this.state !== "ready") {
      msg.nak(); // arrived after drain began: hand it straight to another worker
      return;
    }
    const job = jobFromMessage(msg, lane, this.now(), this.deps.settings.replySubjects);
    this.held.add(job);
    if (lane === "bulk") this.bulkHeld += 1;
    if (job.deliveries > 1) this.deps.metrics.redeliveries.inc();
    this.deps.metrics.queueWait.observe(Math.max(0, job.receivedAtMs - job.publishedAtMs) / 1000);
    void this.admitJob(job);
  }

  private async admitJob(job: Job): Promise<void> {
    this.preparing += 1;
    try {
      const admitted = await admit(job, this.admission).finally(() => (this.preparing -= 1));
      if (admitted.kind === "cached") {
        this.deps.metrics.cacheHits.inc();
        await this.settle(job, { kind: "answered" }, this.verdictOf(job, 1, 0, true));
        return;
      }
      if (this.deps.cache) this.deps.metrics.cacheMisses.inc();
      this.deps.metrics.preprocess.observe(job.preprocessMs / 1000);
      job.readyAtMs = this.now();
      this.ready.push(job);
      this.scheduleBatch();
    } catch (error) {
      await this.settle(job, { kind: "failed", error });
    }
  }

  private scheduleBatch(): void {
    if (this.inferring) return;
    clearTimeout(this.batchTimer);
    const { maxBatch, maxBatchDelayMs } = this.deps.settings;
    const due = batchDueInMs(this.ready.rowCount((j) => rowsLeft(j.work!)), this.ready.oldestReadyAtMs(), maxBatch, maxBatchDelayMs, this.now(), this.preparing, this.recentRunMs);
    if (due === Infinity) return;
    if (due > 0) {
      this.batchTimer = setTimeout(() => this.scheduleBatch(), due);
      return;
    }
    this.inferring = true;
    void this.runBatch().finally(() => {
      this.inferring = false;
      this.scheduleBatch();
    });
  }

  private async runBatch(): Promise<void> {
    const now = this.now();
    for (const job of this.ready.extract((j) => isExpired(j, now))) {
      void this.settle(job, { kind: "failed", error: new VerdictError(ErrorCode.DEADLINE_EXCEEDED, "deadline passed while waiting for a batch") });
    }
    // OFA_MAX_BATCH counts rows (hypotheses): a long list is split across runs, its image encoded by the first.
    const slices = this.ready.takeRows(this.deps.settings.maxBatch, (j) => rowsLeft(j.work!));
    if (slices.length === 0) return;
    const rows = slices.reduce((n, s) => n + s.rows, 0);
    const startedAt = this.now();
    let result: RowsResult;
    try {
      result = await this.deps.model.inferRows(slices.map(({ item, rows: n }) => ({ image: item.work!.image, rows: nextRows(item.work!, n) })));
    } catch (err) {
      this.deps.logger.error({ err, batchSize: rows }, "inference failed");
      const error = err instanceof OfaError ? err : new OfaError(ErrorCode.MODEL_RUN, `inference failed: ${(err as Error).message}`, { cause: err });
      const failed = new Set(slices.map((s) => s.item));
      this.ready.extract((j) => failed.has(j)); // a list taken in part is handed back whole
      await Promise.all(slices.map(({ item }) => this.settle(item, { kind: "failed", error })));
      return;
    }
    const { runMs } = result;
    this.deps.metrics.inference.observe(runMs / 1000);
    this.recentRunMs = this.recentRunMs === 0 ? runMs : 0.8 * this.recentRunMs + 0.2 * runMs;
    this.deps.metrics.batchSize.observe(rows);
    await Promise.all(
      slices.map(({ item: job }, g) => {
        const work = job.work!;
        recordRun(work, result.answers[g]!, result.embeds[g], runMs, rows, startedAt);
        if (rowsLeft(work) > 0) return undefined; // the rest of the list runs in the next batch
        this.deps.metrics.batchWait.observe(Math.max(0, work.firstRunAtMs! - job.readyAtMs) / 1000);
        return this.settle(job, { kind: "answered" }, this.verdictOf(job, work.lastRunRows, work.inferenceMs, false, work.firstRunAtMs! - job.readyAtMs));
      }),
    );
  }

  /** The ok verdict of a fully answered request: single, or a list's `results`. */
  private verdictOf(job: Job, batchSize: number, inferenceMs: number, cached: boolean, batchWaitMs = 0): OkVerdict | ListVerdict {
    const work = job.work!;
    const base = this.okVerdict(job, work.answers[0]!, batchSize, inferenceMs, cached, batchWaitMs);
    return work.hypotheses ? listVerdict(base, work) : base;
  }

  private okVerdict(job: Job, answer: AnswerScores, batchSize: number, inferenceMs: number, cached: boolean, batchWaitMs = 0): OkVerdict {
    const now = this.now();
    return {
      v: 1,
      id: job.id,
      ok: true,
      label: answer.label,
      scores: answer.scores,
      model: this.deps.model.info,
      timings: {
        queueMs: Math.max(0, job.receivedAtMs - job.publishedAtMs),
        preprocessMs: round(job.preprocessMs),
        batchWaitMs: round(Math.max(0, batchWaitMs)),
        inferenceMs: round(inferenceMs),
        totalMs: Math.max(0, now - job.publishedAtMs),
      },
      batchSize,
      deliveries: job.deliveries,
      worker: this.deps.settings.workerName,
      ...(cached ? { cached: true } : {}),
    };
  }

  /** Publishes what the settlement calls for, then acks / terms / naks. Never throws. */
  private async settle(job: Job, outcome: Outcome, verdict?: OkVerdict | ListVerdict): Promise<void> {
    const { settings, metrics, logger } = this.deps;
    const decision = decideSettlement(outcome, job.deliveries, settings);
    const log = logger.child({ reqId: job.id, seq: job.msg.info.streamSequence, deliveries: job.deliveries, lane: job.lane });
    try {
      if (decision.kind === "ack" && verdict) {
        const after = settleAfterPublish(decision, await this.publisher.publish(job, verdict));
        if (after.kind === "term") {
          await this.terminate(job, after, log); // the id has another payload's verdict: the caller got a conflict
        } else {
          job.msg.ack();
          metrics.verdicts.inc({ outcome: "ok", code: "none" });
          metrics.total.observe(verdict.timings.totalMs / 1000);
          if (this.deps.cache && job.work && !verdict.cached) cacheAnswers(this.deps.cache, job.work);
          const answered = "results" in verdict ? { hypotheses: verdict.results.length } : { label: verdict.label };
          log.info({ outcome: "ok", ...answered, batchSize: verdict.batchSize, cached: verdict.cached === true, timings: verdict.timings }, "verdict");
        }
      } else if (decision.kind === "term") {
        const details = outcome.kind === "failed" && outcome.error instanceof VerdictError ? outcome.error.details : undefined;
        const ev = errorVerdict(job.id, decision.code, decision.message, { model: this.deps.model.info, deliveries: job.deliveries, worker: settings.workerName, details });
        await this.terminate(job, settleAfterPublish(decision, await this.publisher.publish(job, ev)), log);
      } else if (decision.kind === "nak") {
        job.msg.nak(decision.delayMs);
        metrics.naks.inc();
        log.warn({ err: outcome.kind === "failed" ? outcome.error : undefined, retryInMs: decision.delayMs }, "transient failure; request handed back");
      }
      if (decision.kind !== "nak" && job.imageRef) void this.images.delete(job.imageRef);
    } catch (err) {
      // Publishing failed (broker gone, timeout): leave it to JetStream to redeliver rather than lose it.
      log.warn({ err }, "could not publish the verdict; request handed back");
      safely(() => job.msg.nak(1_000));
    } finally {
      if (job.lane === "bulk") this.bulkHeld -= 1;
      this.held.delete(job);
    }
  }

  /** The verdict is published: dead-letter when the settlement says so, then term (never redelivered). */
  private async terminate(job: Job, term: Term, log: Logger): Promise<void> {
    if (term.deadLetter) {
      await this.publisher.deadLetter(job, term.code, term.message);
      this.deps.metrics.deadLetters.inc({ code: term.code });
    }
    job.msg.term(); // no reason: nats-server 2.9 ignores term(reason) and would redeliver; the reason is in the dead letter
    this.deps.metrics.verdicts.inc({ outcome: "error", code: term.code });
    log.info({ outcome: "error", code: term.code, reason: term.message }, "error verdict");
  }

  /** Stops pulling and waits up to graceMs for held requests. Resolves with how many were left to redelivery. */
  drain(graceMs: number): Promise<number> {
    this.drained ??= this.doDrain(graceMs);
    return this.drained;
  }

  private async doDrain(graceMs: number): Promise<number> {
    this.state = "draining";
    // The grace counts from here: stopping the pullers (a fetch with a wedged broker can hang) spends it too.
    const graceEndsAt = Date.now() + graceMs;
    await within(Promise.all(this.pullers.map((p) => p.stop())), graceMs);
    const emptied = await this.held.waitEmpty(Math.max(0, graceEndsAt - Date.now()));
    this.held.stopHeartbeats();
    clearTimeout(this.batchTimer);
    this.state = "closed";
    if (emptied) return 0;
    const leftover = this.held.size;
    this.held.handBack(); // nak: another worker gets them now rather than after the ack wait
    return leftover;
  }

  get heldCount(): number {
    return this.held.size;
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // the connection is gone; ack_wait will redeliver
  }
}
