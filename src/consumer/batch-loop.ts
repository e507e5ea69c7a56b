/**
 * The batch loop: prepared requests wait in the ready queue (batch-policy.ts decides when and what), one inference runs at
 * a time, and each request leaves the loop exactly once — answered when its last row is answered, failed when its
 * deadline passed while it waited (no inference spent on it) or when the inference that took its rows failed.
 * The model (`infer`) and the clock are injected, so the loop runs in unit tests without a model or real time.
 */
import type { Logger } from "../log/logger.ts";
import type { WorkerMetrics } from "../metrics/definitions.ts";
import type { RowGroup, RowsResult } from "../model/index.ts";
import { ErrorCode, OfaError, type VerdictError } from "../protocol/index.ts";
import { batchDueInMs, ReadyQueue } from "./batch-policy.ts";
import { pastDeadline, type AdmittedJob, type Job } from "./job.ts";
import type { Answering } from "./verdicts.ts";
import { nextRows, recordRun, rowsLeft } from "./work.ts";

/** One run of the model over groups of rows sharing an image (Model.inferRows in a worker). */
export type Infer = (groups: readonly RowGroup[]) => Promise<Pick<RowsResult, "answers" | "embeds" | "runMs">>;

/** Time as the loop sees it: what time it is, and a one-shot timer. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface BatchLoopDeps {
  readonly infer: Infer;
  readonly clock: Clock;
  /** Rows per run (OFA_MAX_BATCH counts rows: a long list is split across runs). */
  readonly maxBatch: number;
  readonly maxBatchDelayMs: number;
  /** Every row of the request is answered. */
  readonly answered: (job: AdmittedJob, answering: Answering) => Promise<void>;
  readonly failed: (job: Job, error: unknown) => Promise<void>;
  readonly metrics: Pick<WorkerMetrics, "inference" | "batchSize" | "batchWait">;
  readonly logger: Logger;
}

/** A prepared request in the ready queue, and since when it waits. */
interface Waiting {
  readonly job: AdmittedJob;
  readonly lane: AdmittedJob["lane"];
  readonly readyAtMs: number;
}

const rowsOf = (w: Waiting) => rowsLeft(w.job.work);

export class BatchLoop {
  private readonly deps: BatchLoopDeps;
  private readonly ready = new ReadyQueue<Waiting>();
  private inferring = false;
  /** Requests admitted and still being decoded/tokenised. */
  private preparing = 0;
  /** Moving average of session.run time, ms: how long a request left out of a batch would wait. */
  private recentRunMs = 0;
  private timer: unknown;

  constructor(deps: BatchLoopDeps) {
    this.deps = deps;
  }

  /** For the metrics: requests being preprocessed, and prepared ones waiting for a batch. */
  get queueDepths(): { preprocessing: number; batching: number } {
    return { preprocessing: this.preparing, batching: this.ready.size };
  }

  /** A request is being prepared: a partial batch may wait a little for it (batchDueInMs). */
  preparingStarted(): void {
    this.preparing += 1;
  }

  preparingEnded(): void {
    this.preparing -= 1;
  }

  /** A prepared request joins the queue. */
  push(job: AdmittedJob): void {
    this.ready.push({ job, lane: job.lane, readyAtMs: this.deps.clock.now() });
    this.schedule();
  }

  /** Clears the pending timer (drain). A batch already running still finishes. */
  stop(): void {
    this.deps.clock.clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.inferring) return;
    const { clock, maxBatch, maxBatchDelayMs } = this.deps;
    clock.clearTimeout(this.timer);
    const due = batchDueInMs({
      readyRows: this.ready.rowCount(rowsOf),
      oldestReadyAtMs: this.ready.oldestReadyAtMs(),
      maxBatch,
      maxDelayMs: maxBatchDelayMs,
      nowMs: clock.now(),
      preparing: this.preparing,
      recentRunMs: this.recentRunMs,
    });
    if (due === Infinity) return;
    if (due > 0) {
      this.timer = clock.setTimeout(() => this.schedule(), due);
      return;
    }
    this.inferring = true;
    void this.runBatch().finally(() => {
      this.inferring = false;
      this.schedule();
    });
  }

  private async runBatch(): Promise<void> {
    const { clock, metrics } = this.deps;
    const now = clock.now();
    const late: { job: AdmittedJob; error: VerdictError }[] = [];
    this.ready.extract(({ job }) => {
      const error = pastDeadline(job, now);
      if (error) late.push({ job, error });
      return error !== undefined;
    });
    for (const { job, error } of late) void this.deps.failed(job, error);
    const slices = this.ready.takeRows(this.deps.maxBatch, rowsOf);
    if (slices.length === 0) return;
    const rows = slices.reduce((n, s) => n + s.rows, 0);
    const startedAt = clock.now();
    let result: Awaited<ReturnType<Infer>>;
    try {
      result = await this.deps.infer(slices.map(({ item: { job }, rows: n }) => ({ image: job.work.image, rows: nextRows(job.work, n) })));
    } catch (err) {
      this.deps.logger.error({ err, batchSize: rows }, "inference failed");
      const error = err instanceof OfaError ? err : new OfaError(ErrorCode.MODEL_RUN, `inference failed: ${(err as Error).message}`, { cause: err });
      const failed = new Set(slices.map((s) => s.item));
      this.ready.extract((j) => failed.has(j)); // a list taken in part is handed back whole
      await Promise.all(slices.map(({ item }) => this.deps.failed(item.job, error)));
      return;
    }
    const { runMs } = result;
    metrics.inference.observe(runMs / 1000);
    this.recentRunMs = this.recentRunMs === 0 ? runMs : 0.8 * this.recentRunMs + 0.2 * runMs;
    metrics.batchSize.observe(rows);
    await Promise.all(
      slices.map(({ item: { job, readyAtMs } }, g) => {
        const work = job.work;
        recordRun(work, result.answers[g]!, result.embeds[g], runMs, rows, startedAt);
        if (rowsLeft(work) > 0) return undefined; // the rest of the list runs in the next batch
        const batchWaitMs = (work.firstRunAtMs ?? startedAt) - readyAtMs;
        metrics.batchWait.observe(Math.max(0, batchWaitMs) / 1000);
        return this.deps.answered(job, { batchSize: work.lastRunRows, inferenceMs: work.inferenceMs, cached: false, batchWaitMs });
      }),
    );
  }
}
