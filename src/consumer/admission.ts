/**
 * From a received request to an admitted one, cheapest checks first: envelope and limits, deadline, image bytes
 * (inline or object store), verdict cache, then decode/resize and tokenisation. Never throws: a request that cannot
 * be admitted comes back `rejected`, with the error its caller must be told and the id and image reference learnt
 * before the failure (the error verdict names that id; the image is deleted once the request is settled).
 */
import { ErrorCode, IMAGE_BUCKET, VerdictError, checkRequestId, parseDeadline, parseRequest, type RequestLimits } from "../protocol/index.ts";
import type { AnswerScores, Model } from "../model/index.ts";
import { VerdictCache } from "./cache.ts";
import type { ImageStore } from "./images.ts";
import { hasExplicitId, pastDeadline, type AdmittedJob, type Job } from "./job.ts";
import { newWork } from "./work.ts";

export interface AdmissionDeps {
  readonly model: Pick<Model, "info" | "prepareImage" | "tokenize">;
  readonly images: Pick<ImageStore, "read">;
  readonly cache: VerdictCache | undefined;
  readonly limits: RequestLimits;
  readonly now: () => number;
}

/** `prepared`: rows wait for the model; `cached`: the cache answered every hypothesis. */
export type Admission =
  | { readonly kind: "prepared" | "cached"; readonly job: AdmittedJob }
  | { readonly kind: "rejected"; readonly job: Job; readonly error: unknown };

export async function admit(received: Job, deps: AdmissionDeps): Promise<Admission> {
  let job = received;
  try {
    if (job.rejection) throw job.rejection; // a bad header: nothing else about the request is looked at
    const request = parseRequest(job.msg.data, deps.limits);
    if (!hasExplicitId(job) && request.bodyId !== undefined) {
      checkRequestId(request.bodyId);
      job = { ...job, id: request.bodyId };
    }
    if (job.deadlineMs === undefined) job = { ...job, deadlineMs: parseDeadline(request.bodyDeadlineMs, "envelope deadline") };
    const late = pastDeadline(job, deps.now());
    if (late) throw late;
    if (request.image.kind === "ref") {
      // Only the SDK's image bucket: a reference elsewhere would let a caller read, and once answered delete,
      // any object the service's NATS user can reach. Checked before imageRef is set, so nothing is deleted.
      if (request.image.ref.bucket !== IMAGE_BUCKET) {
        throw new VerdictError(ErrorCode.IMAGE_REF_NOT_FOUND, `image references must name the ${IMAGE_BUCKET} bucket, not ${request.image.ref.bucket}`);
      }
      job = { ...job, imageRef: request.image.ref };
    }
    const image = request.image.kind === "inline" ? request.image.bytes : await deps.images.read(request.image.ref);
    const texts = request.hypotheses ?? [request.text];
    let cached: (AnswerScores | undefined)[] = [];
    let keys: string[] | undefined;
    if (deps.cache) {
      keys = VerdictCache.keys(image, texts, request.premise, deps.model.info.version);
      const cache = deps.cache;
      cached = await Promise.all(keys.map((k) => cache.get(k)));
    }
    const work = newWork(request.hypotheses, texts.length, cached, keys);
    if (texts.every((_, i) => cached[i] !== undefined)) return { kind: "cached", job: { ...job, work, preprocessMs: 0 } };
    const started = deps.now();
    // Decoded and resized once, whatever the number of hypotheses; tokenised per hypothesis the cache did not answer.
    work.image = { pixels: await deps.model.prepareImage(image) };
    texts.forEach((text, i) => {
      if (cached[i] !== undefined) return;
      work.rows.push(deps.model.tokenize(text, request.premise));
      work.rowIndex.push(i);
    });
    return { kind: "prepared", job: { ...job, work, preprocessMs: deps.now() - started } };
  } catch (error) {
    return { kind: "rejected", job, error };
  }
}
