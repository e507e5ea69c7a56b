/**
 * From a received message to a prepared model input, cheapest checks first: envelope and limits, deadline,
 * image bytes (inline or object store), verdict cache, then decode/resize and tokenisation.
 * Throws VerdictError for anything the caller must be told; returns a cached answer when there is one.
 */
import { ErrorCode, IMAGE_BUCKET, VerdictError, checkRequestId, parseDeadline, parseRequest, type RequestLimits } from "../protocol/index.ts";
import type { AnswerScores, Model } from "../model/index.ts";
import { VerdictCache } from "./cache.ts";
import type { ImageStore } from "./images.ts";
import { hasExplicitId, type Job } from "./job.ts";
import { newWork } from "./work.ts";

export interface AdmissionDeps {
  readonly model: Pick<Model, "info" | "prepareImage" | "tokenize">;
  readonly images: Pick<ImageStore, "read">;
  readonly cache: VerdictCache | undefined;
  readonly limits: RequestLimits;
  readonly now: () => number;
}

export type Admitted = { readonly kind: "prepared" } | { readonly kind: "cached"; readonly answer: AnswerScores };

export async function admit(job: Job, deps: AdmissionDeps): Promise<Admitted> {
  if (job.rejection) throw job.rejection; // a bad header: nothing else about the request is looked at
  const request = parseRequest(job.msg.data, deps.limits);
  if (!hasExplicitId(job) && request.bodyId !== undefined) {
    checkRequestId(request.bodyId);
    job.id = request.bodyId;
  }
  job.deadlineMs ??= parseDeadline(request.bodyDeadlineMs, "envelope deadline");
  checkDeadline(job, deps.now());
  if (request.image.kind === "ref") {
    // Only the SDK's image bucket: a reference elsewhere would let a caller read, and once answered delete,
    // any object the service's NATS user can reach. Checked before imageRef is set, so nothing is deleted.
    if (request.image.ref.bucket !== IMAGE_BUCKET) {
      throw new VerdictError(ErrorCode.IMAGE_REF_NOT_FOUND, `image references must name the ${IMAGE_BUCKET} bucket, not ${request.image.ref.bucket}`);
    }
    job.imageRef = request.image.ref;
  }
  const image = request.image.kind === "inline" ? request.image.bytes : await deps.images.read(request.image.ref);
  const texts = request.hypotheses ?? [request.text];
  let cached: (AnswerScores | undefined)[] = [];
  let keys: string[] | undefined;
  if (deps.cache) {
    keys = VerdictCache.keys(image, texts, request.premise, deps.model.info.version);
    job.cacheKey = keys[0];
    const cache = deps.cache;
    cached = await Promise.all(keys.map((k) => cache.get(k)));
  }
  const work = newWork(request.hypotheses, texts.length, cached, keys);
  job.work = work;
  if (texts.every((_, i) => cached[i] !== undefined)) return { kind: "cached", answer: cached[0]! };
  const started = deps.now();
  // Decoded and resized once, whatever the number of hypotheses; tokenised per hypothesis the cache did not answer.
  work.image = { pixels: await deps.model.prepareImage(image) };
  texts.forEach((text, i) => {
    if (cached[i] !== undefined) return;
    work.rows.push(deps.model.tokenize(text, request.premise));
    work.rowIndex.push(i);
  });
  job.preprocessMs = deps.now() - started;
  return { kind: "prepared" };
}

export function checkDeadline(job: Job, nowMs: number): void {
  if (job.deadlineMs !== undefined && nowMs > job.deadlineMs) {
    throw new VerdictError(
      ErrorCode.DEADLINE_EXCEEDED,
      `deadline ${new Date(job.deadlineMs).toISOString()} passed ${nowMs - job.deadlineMs} ms before the request could be served`,
    );
  }
}

export function isExpired(job: Job, nowMs: number): boolean {
  return job.deadlineMs !== undefined && nowMs > job.deadlineMs;
}
