/**
 * Carries out a settlement: publishes what decideSettlement (settle.ts, the one pure decision) calls for, then acks,
 * terms (after a dead letter when due) or naks the request, and gives its room back. Never throws: when publishing
 * fails (broker gone, timeout) the request is nak'ed, so JetStream redelivers it rather than lose it.
 */
import type { Logger } from "../log/logger.ts";
import type { WorkerMetrics } from "../metrics/definitions.ts";
import type { AnswerTarget, Published } from "../nats/publish.ts";
import { VerdictError, errorVerdict, type AnyVerdict, type ImageRef, type ListVerdict, type ModelInfo, type OkVerdict } from "../protocol/index.ts";
import type { VerdictCache } from "./cache.ts";
import type { AdmittedJob, Job } from "./job.ts";
import { decideSettlement, settleAfterPublish, type Answered, type Failed, type Outcome, type RetryPolicy, type Term } from "./settle.ts";
import { cacheAnswers } from "./work.ts";

/** Where verdicts and dead letters go (VerdictPublisher in a worker). */
export interface VerdictSink {
  publish(job: AnswerTarget, verdict: AnyVerdict): Promise<Published>;
  deadLetter(job: AnswerTarget, code: string, reason: string): Promise<void>;
}

export interface SettlerDeps {
  readonly publisher: VerdictSink;
  /** Out-of-band images are deleted once the request is answered for good. */
  readonly images: { delete(ref: ImageRef): Promise<void> };
  readonly cache: Pick<VerdictCache, "put"> | undefined;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  readonly policy: RetryPolicy;
  /** Named in error verdicts. */
  readonly model: ModelInfo;
  readonly worker: string;
  /** The request is settled (whatever the outcome): its room is free. */
  readonly onSettled: (job: Job) => void;
}

export class Settler {
  private readonly deps: SettlerDeps;
  constructor(deps: SettlerDeps) {
    this.deps = deps;
  }

  /** An answered request (its verdict in the outcome) or a failed one; the job as far as it got. */
  settle(job: AdmittedJob, outcome: Answered): Promise<void>;
  settle(job: Job, outcome: Failed): Promise<void>;
  async settle(job: Job | AdmittedJob, outcome: Outcome): Promise<void> {
    const { policy, logger, publisher } = this.deps;
    const log = logger.child({ reqId: job.id, seq: job.msg.info.streamSequence, deliveries: job.deliveries, lane: job.lane });
    try {
      if (outcome.kind === "answered") {
        const after = settleAfterPublish(decideSettlement(outcome, job.deliveries, policy), await publisher.publish(job, outcome.verdict));
        if (after.kind === "term") await this.terminate(job, after, log); // the id has another payload's verdict: the caller got a conflict
        else this.acknowledge(job, outcome.verdict, log);
      } else {
        const decision = decideSettlement(outcome, job.deliveries, policy);
        if (decision.kind === "nak") {
          job.msg.nak(decision.delayMs);
          this.deps.metrics.naks.inc();
          log.warn({ err: outcome.error, retryInMs: decision.delayMs }, "transient failure; request handed back");
          return;
        }
        const details = outcome.error instanceof VerdictError ? outcome.error.details : undefined;
        const ev = errorVerdict(job.id, decision.code, decision.message, { model: this.deps.model, deliveries: job.deliveries, worker: this.deps.worker, details });
        await this.terminate(job, settleAfterPublish(decision, await publisher.publish(job, ev), job.deliveries > 1), log);
      }
      if (job.imageRef) void this.deps.images.delete(job.imageRef); // answered for good: acked or termed
    } catch (err) {
      // Publishing failed (broker gone, timeout): leave it to JetStream to redeliver rather than lose it.
      log.warn({ err }, "could not publish the verdict or its dead letter; request handed back");
      safely(() => job.msg.nak(1_000));
    } finally {
      this.deps.onSettled(job);
    }
  }

  /** The ok verdict is published: ack, count, and cache what the model computed. */
  private acknowledge(job: Job | AdmittedJob, verdict: OkVerdict | ListVerdict, log: Logger): void {
    const { metrics, cache } = this.deps;
    job.msg.ack();
    metrics.verdicts.inc({ outcome: "ok", code: "none" });
    metrics.total.observe(verdict.timings.totalMs / 1000);
    if (cache && "work" in job && !verdict.cached) cacheAnswers(cache, job.work);
    const answered = "results" in verdict ? { hypotheses: verdict.results.length } : { label: verdict.label };
    log.info({ outcome: "ok", ...answered, batchSize: verdict.batchSize, cached: verdict.cached === true, timings: verdict.timings }, "verdict");
  }

  /** The verdict is published: dead-letter when the settlement says so, then term (never redelivered). */
  private async terminate(job: Job, term: Term, log: Logger): Promise<void> {
    if (term.deadLetter) {
      await this.deps.publisher.deadLetter(job, term.code, term.message);
      this.deps.metrics.deadLetters.inc({ code: term.code });
    }
    job.msg.term(); // no reason: nats-server 2.9 ignores term(reason) and would redeliver; the reason is in the dead letter
    this.deps.metrics.verdicts.inc({ outcome: "error", code: term.code });
    log.info({ outcome: "error", code: term.code, reason: term.message }, "error verdict");
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // the connection is gone; ack_wait will redeliver
  }
}
