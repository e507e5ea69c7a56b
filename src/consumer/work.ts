/**
 * What a held request still needs from the model, as rows: one row per hypothesis not answered from the cache
 * (a single-`text` request is a list of one). The image is decoded once; with a split model it is encoded once,
 * by the first run that takes any of its rows, and later runs (a list longer than OFA_MAX_BATCH) reuse the
 * embeddings. The verdict is published only when every row is answered, so a worker that dies mid-list leaves the
 * whole request to redelivery and the caller gets one verdict.
 */
import type { AnswerScores, GroupImage, ImageEmbeds } from "../model/index.ts";
import type { ListVerdict, OkVerdict } from "../protocol/index.ts";
import type { VerdictCache } from "./cache.ts";

export interface RequestWork {
  /** A policy list's hypotheses as sent; undefined for a single-`text` request. */
  readonly hypotheses: readonly string[] | undefined;
  /** Pixels until a run encodes the image (split form), then its embeddings. */
  image: GroupImage;
  /** Prompt ids of the rows to compute; rows[k] answers answers[rowIndex[k]]. */
  readonly rows: number[][];
  readonly rowIndex: number[];
  /** Per hypothesis; those found in the cache are filled at admission. */
  readonly answers: (AnswerScores | undefined)[];
  readonly fromCache: readonly boolean[];
  /** Per hypothesis, its verdict-cache key (when the cache is on). */
  readonly cacheKeys: readonly string[] | undefined;
  /** rows[0, next) are answered. */
  next: number;
  inferenceMs: number;
  lastRunRows: number;
  firstRunAtMs: number | undefined;
}

export function newWork(
  hypotheses: readonly string[] | undefined,
  count: number,
  cached: readonly (AnswerScores | undefined)[],
  cacheKeys: readonly string[] | undefined,
): RequestWork {
  return {
    hypotheses,
    image: { pixels: new Float32Array(0) },
    rows: [],
    rowIndex: [],
    answers: Array.from({ length: count }, (_, i) => cached[i]),
    fromCache: Array.from({ length: count }, (_, i) => cached[i] !== undefined),
    cacheKeys,
    next: 0,
    inferenceMs: 0,
    lastRunRows: 0,
    firstRunAtMs: undefined,
  };
}

export function rowsLeft(work: RequestWork): number {
  return work.rows.length - work.next;
}

/** The rows the next run takes from this request. */
export function nextRows(work: RequestWork, count: number): readonly (readonly number[])[] {
  return work.rows.slice(work.next, work.next + count);
}

/** Records one run's answers for `answers.length` rows; keeps the image's embeddings when the run made them. */
export function recordRun(work: RequestWork, answers: readonly AnswerScores[], embeds: ImageEmbeds | undefined, runMs: number, runRows: number, startedAtMs: number): void {
  answers.forEach((a, k) => (work.answers[work.rowIndex[work.next + k]!] = a));
  work.next += answers.length;
  work.inferenceMs += runMs;
  work.lastRunRows = runRows;
  work.firstRunAtMs ??= startedAtMs;
  if (embeds) work.image = { embeds };
  if (rowsLeft(work) === 0) work.image = { pixels: new Float32Array(0) }; // release pixels/embeddings before publishing
}

/** A list request's verdict: the single-verdict fields with `results` in place of label and scores. */
export function listVerdict(base: OkVerdict, hypotheses: readonly string[], answers: RequestWork["answers"]): ListVerdict {
  const { label: _label, scores: _scores, ...rest } = base;
  return { ...rest, results: hypotheses.map((text, i) => ({ text, label: answers[i]!.label, scores: answers[i]!.scores })) };
}

/** Caches every answer the model computed (per image, text, premise and model), so a later single question hits it. */
export function cacheAnswers(cache: Pick<VerdictCache, "put">, work: RequestWork): void {
  work.cacheKeys?.forEach((key, i) => {
    const answer = work.answers[i];
    if (answer && !work.fromCache[i]) void cache.put(key, { label: answer.label, scores: answer.scores });
  });
}
