/** The ok verdict of an answered request, from what the worker measured while serving it. Pure. */
import type { AnswerScores } from "../model/index.ts";
import type { ListVerdict, ModelInfo, OkVerdict } from "../protocol/index.ts";
import type { AdmittedJob } from "./job.ts";
import { listVerdict } from "./work.ts";

/** How the request was answered. */
export interface Answering {
  /** Rows in the (last) run that answered it; 1 for a cached answer. */
  readonly batchSize: number;
  readonly inferenceMs: number;
  readonly cached: boolean;
  /** From ready to its first run. */
  readonly batchWaitMs?: number;
}

/** Who answered, and when the verdict is made. */
export interface Answerer {
  readonly model: ModelInfo;
  readonly worker: string;
  readonly nowMs: number;
}

/** The verdict of a fully answered request: a single one, or a list's `results`. */
export function answeredVerdict(job: AdmittedJob, answering: Answering, by: Answerer): OkVerdict | ListVerdict {
  const { work } = job;
  const base = okVerdict(job, work.answers[0]!, answering, by);
  return work.hypotheses ? listVerdict(base, work.hypotheses, work.answers) : base;
}

function okVerdict(job: AdmittedJob, answer: AnswerScores, answering: Answering, by: Answerer): OkVerdict {
  return {
    v: 1,
    id: job.id,
    ok: true,
    label: answer.label,
    scores: answer.scores,
    model: by.model,
    timings: {
      queueMs: Math.max(0, job.receivedAtMs - job.publishedAtMs),
      preprocessMs: round(job.preprocessMs),
      batchWaitMs: round(Math.max(0, answering.batchWaitMs ?? 0)),
      inferenceMs: round(answering.inferenceMs),
      totalMs: Math.max(0, by.nowMs - job.publishedAtMs),
    },
    batchSize: answering.batchSize,
    deliveries: job.deliveries,
    worker: by.worker,
    ...(answering.cached ? { cached: true } : {}),
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
