/**
 * One worker process's consumer: pull (both lanes) → hold and heartbeat → admit → batch → infer → publish → settle.
 * It wires the parts together: capacity.ts (how much each lane may hold), admission.ts, batch-loop.ts (when and what
 * the model runs), verdicts.ts, settle-apply.ts (publish, then ack / term / nak). Every collaborator comes in through
 * ConsumerDeps, so unit tests run it with fakes; natsConsumerDeps() gives a worker the real ones.
 * Lifecycle: starting → ready → draining → closed. `drain()` stops pulling, lets held requests finish within the
 * grace period, and is idempotent. Requests still held when the grace runs out are handed back (nak): JetStream
 * redelivers them to another worker, so a drain never loses a request.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, type Consumer, type JsMsg } from "@nats-io/jetstream";
import type { Config } from "../config/index.ts";
import type { Logger } from "../log/logger.ts";
import type { WorkerMetrics } from "../metrics/definitions.ts";
import type { Model } from "../model/index.ts";
import { VerdictPublisher } from "../nats/publish.ts";
import { LANES, STREAMS, consumerName, type Lane, type RequestLimits } from "../protocol/index.ts";
import { within } from "../runtime/within.ts";
import { admit, type AdmissionDeps } from "./admission.ts";
import { BatchLoop, systemClock, type Clock } from "./batch-loop.ts";
import type { VerdictCache } from "./cache.ts";
import { Capacity } from "./capacity.ts";
import { HeldSet } from "./held.ts";
import { ImageStore } from "./images.ts";
import { jobFromMessage, type AdmittedJob, type Job } from "./job.ts";
import { LanePuller } from "./puller.ts";
import { Settler, type VerdictSink } from "./settle-apply.ts";
import { answeredVerdict, type Answering } from "./verdicts.ts";

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

/** What the consumer needs of the model. */
export type ConsumerModel = Pick<Model, "info" | "prepareImage" | "tokenize" | "inferRows">;

export interface ConsumerDeps {
  readonly model: ConsumerModel;
  /** Binds one lane's durable consumer (one attempt; the consumer retries while starting). */
  readonly bindLane: (lane: Lane) => Promise<Pick<Consumer, "fetch">>;
  readonly publisher: VerdictSink;
  readonly images: AdmissionDeps["images"] & { delete: ImageStore["delete"] };
  readonly cache: VerdictCache | undefined;
  readonly logger: Logger;
  readonly metrics: WorkerMetrics;
  readonly settings: ConsumerSettings;
  /** Every held request, heartbeated; default: a HeldSet beating every ackWait/3 that reports ofa_in_flight. */
  readonly held?: HeldSet;
  /** Told the ack subjects of every held request whenever they change (the worker tells its supervisor). */
  readonly onHolding?: (acks: string[]) => void;
  readonly clock?: Clock;
}

/** A worker's collaborators: JetStream lanes, the verdict publisher and the image object store on one connection. */
export function natsConsumerDeps(nc: NatsConnection, parts: Pick<ConsumerDeps, "model" | "cache" | "logger" | "metrics" | "settings">): ConsumerDeps {
  const js = jetstream(nc);
  return {
    ...parts,
    bindLane: (lane) => js.consumers.get(STREAMS.requests, consumerName(lane)),
    publisher: new VerdictPublisher(nc, js, (failure) => {
      const { err, ...what } = failure;
      parts.metrics.deadLetterFailures.inc({ code: failure.code });
      parts.logger.error({ err, ...what }, failure.final ? "could not write the dead letter; request handed back" : "could not write the dead letter; trying again");
    }),
    images: new ImageStore(nc, parts.settings.maxImageBytes),
  };
}

const BIND_RETRY_MS = 500;

export class EntailmentConsumer {
  state: ConsumerState = "starting";
  private readonly deps: ConsumerDeps;
  private readonly clock: Clock;
  private readonly held: HeldSet;
  private readonly capacityOf: Capacity;
  private readonly admission: AdmissionDeps;
  private readonly batches: BatchLoop;
  private readonly settler: Settler;
  private readonly pullers: LanePuller[] = [];
  private drained: Promise<number> | undefined;

  constructor(deps: ConsumerDeps) {
    this.deps = deps;
    const { settings, metrics, model } = deps;
    this.clock = deps.clock ?? systemClock;
    this.held = deps.held ?? new HeldSet(Math.max(100, Math.floor(settings.ackWaitMs / 3)), (n) => metrics.inFlight.set(n), deps.onHolding);
    this.capacityOf = new Capacity({ maxBatch: settings.maxBatch, held: this.held });
    this.admission = { model, images: deps.images, cache: deps.cache, limits: settings.limits, now: () => this.clock.now() };
    this.settler = new Settler({
      publisher: deps.publisher,
      images: deps.images,
      cache: deps.cache,
      metrics,
      logger: deps.logger,
      policy: settings,
      model: model.info,
      worker: settings.workerName,
      onSettled: (job) => this.capacityOf.release(job),
    });
    this.batches = new BatchLoop({
      infer: (groups) => model.inferRows(groups),
      clock: this.clock,
      maxBatch: settings.maxBatch,
      maxBatchDelayMs: settings.maxBatchDelayMs,
      answered: (job, answering) => this.answered(job, answering),
      failed: (job, error) => this.settler.settle(job, { kind: "failed", error }),
      metrics,
      logger: deps.logger,
    });
  }

  /** Requests a worker holds at most: one batch running, one forming (bulk may add one batch, see capacity.ts). */
  get capacity(): number {
    return this.capacityOf.limit;
  }

  /** Binds the lane consumers (waiting for them to be provisioned) and starts pulling. */
  async start(): Promise<void> {
    this.held.startHeartbeats();
    for (const lane of LANES) {
      const consumer = await this.bind(lane);
      if (this.state !== "starting") return;
      this.pullers.push(new LanePuller(lane, consumer, this.capacityOf.room(), (l, m) => this.onMessage(l, m), this.deps.logger));
    }
    this.state = "ready";
    for (const p of this.pullers) p.start();
  }

  private async bind(lane: Lane): Promise<Pick<Consumer, "fetch">> {
    for (;;) {
      try {
        return await this.deps.bindLane(lane);
      } catch (err) {
        if (this.state !== "starting") throw err;
        this.deps.logger.warn({ err, lane }, "request consumer not available yet; retrying");
        await new Promise((r) => setTimeout(r, BIND_RETRY_MS));
      }
    }
  }

  /** For the metrics: requests being preprocessed (or waiting for the resize thread), and prepared ones waiting for a batch. */
  get queueDepths(): { preprocessing: number; batching: number } {
    return this.batches.queueDepths;
  }

  private onMessage(lane: Lane, msg: JsMsg): void {
    // Draining, the last pulls run out (puller.ts) and what they bring is served within the grace like the rest; once
    // closed (or before ready), a delivery is handed straight to another worker.
    if (this.state !== "ready" && this.state !== "draining") {
      msg.nak();
      return;
    }
    const { metrics, settings } = this.deps;
    const job = jobFromMessage(msg, lane, this.clock.now(), settings.replySubjects);
    this.capacityOf.hold(job);
    if (job.deliveries > 1) metrics.redeliveries.inc();
    metrics.queueWait.observe(Math.max(0, job.receivedAtMs - job.publishedAtMs) / 1000);
    void this.admitJob(job);
  }

  private async admitJob(job: Job): Promise<void> {
    const { metrics, cache } = this.deps;
    this.batches.preparingStarted();
    const admission = await admit(job, this.admission).finally(() => this.batches.preparingEnded());
    if (admission.kind === "rejected") return this.settler.settle(admission.job, { kind: "failed", error: admission.error });
    if (admission.kind === "cached") {
      metrics.cacheHits.inc();
      return this.answered(admission.job, { batchSize: 1, inferenceMs: 0, cached: true });
    }
    if (cache) metrics.cacheMisses.inc();
    metrics.preprocess.observe(admission.job.preprocessMs / 1000);
    this.batches.push(admission.job);
  }

  private answered(job: AdmittedJob, answering: Answering): Promise<void> {
    const verdict = answeredVerdict(job, answering, { model: this.deps.model.info, worker: this.deps.settings.workerName, nowMs: this.clock.now() });
    return this.settler.settle(job, { kind: "answered", verdict });
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
    this.batches.stop();
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
