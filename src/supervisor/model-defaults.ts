/**
 * Settings whose best value depends on the model and the execution provider, resolved once by the supervisor
 * when they are left at 0 (auto), with the reason logged in the start line.
 *
 * Batch limit: on CPU a big model gains little from batching and every request in a batch waits for the whole
 * batch (measured on OFA-large's shape, 2 cores: batch 8 gave p95 57 s and 6.6 GB peak RSS, batch 2 47.5 s and
 * 4.4 GB at 95 % of the throughput); a small model batches well (×1.46 at 8). The fp32 ONNX file's size stands
 * for the model's cost: OFA-large is ≈ 1.9 GB, the tiny test model < 1 MB. On a GPU batching is what fills it.
 *
 * Preprocessing threads: on CPU onnxruntime already uses the cores, and one thread resizes a 1024×768 photo in
 * ≈ 3 ms, so a quarter of a worker's cores is plenty; on a GPU (webgpu, cuda) the cores are there to feed it, so each
 * worker gets its share of the cores but one (the main thread's: bus, decode hand-off), up to 16.
 */
import { statSync } from "node:fs";
import type { Config } from "../config/index.ts";
import { loadManifest } from "../model/manifest.ts";
import type { ExecutionProvider } from "../model/providers.ts";

/** fp32 ONNX files at least this big count as "large" (OFA-base is ≈ 0.7 GB, OFA-large ≈ 1.9 GB). */
export const LARGE_MODEL_BYTES = 200 * 1024 * 1024;

export interface ModelDefaults {
  readonly maxBatch: number;
  readonly preprocessThreads: number;
  /** One line per chosen value: what and why. */
  readonly why: readonly string[];
}

export interface DefaultsInput {
  readonly maxBatch: number;
  readonly preprocessThreads: number;
  readonly executionProvider: ExecutionProvider;
  readonly cores: number;
  readonly workers: number;
  /** undefined when the model file could not be read (the workers will report why). */
  readonly modelBytes: number | undefined;
}

export function chooseModelDefaults(input: DefaultsInput): ModelDefaults {
  const why: string[] = [];
  let maxBatch = input.maxBatch;
  if (maxBatch === 0) {
    const mb = input.modelBytes === undefined ? "unknown size" : `${(input.modelBytes / 1024 ** 2).toFixed(0)} MB`;
    if (input.executionProvider !== "cpu") {
      maxBatch = 16;
      why.push(`max batch 16: ${input.executionProvider}, batching fills the GPU`);
    } else if (input.modelBytes !== undefined && input.modelBytes >= LARGE_MODEL_BYTES) {
      maxBatch = 2;
      why.push(`max batch 2: cpu and a large model (${mb} fp32): bigger batches add latency and memory for little throughput`);
    } else {
      maxBatch = 8;
      why.push(`max batch 8: cpu and a small model (${mb} fp32)`);
    }
  }
  let threads = input.preprocessThreads;
  if (threads === 0) {
    const perWorker = input.cores / Math.max(1, input.workers);
    threads = input.executionProvider !== "cpu"
      ? Math.min(16, Math.max(1, Math.floor(perWorker) - 1))
      : Math.max(1, Math.floor(perWorker / 4));
    why.push(`${threads} preprocessing thread(s) per worker: ${input.executionProvider}, ${input.cores} cores, ${input.workers} worker(s)`);
  }
  return { maxBatch, preprocessThreads: threads, why };
}

/** Reads what chooseModelDefaults needs from the model directory; a missing model is left to the workers to report. */
export async function modelDefaults(config: Config, cores: number, workers: number): Promise<ModelDefaults> {
  let modelBytes: number | undefined;
  try {
    const dir = await loadManifest(config.modelDir);
    modelBytes = statSync(dir.onnxPath("fp32")).size;
  } catch {
    modelBytes = undefined;
  }
  return chooseModelDefaults({ ...config, cores, workers, modelBytes });
}

/**
 * libuv's pool decodes the images (sharp); its default of 4 threads would cap decoding below the preprocessing
 * threads on a big host. Workers inherit the environment, so setting it before they are forked is enough.
 */
export function sizeDecodePool(env: NodeJS.ProcessEnv, preprocessThreads: number): void {
  if (env.UV_THREADPOOL_SIZE === undefined || env.UV_THREADPOOL_SIZE === "") env.UV_THREADPOOL_SIZE = String(Math.max(4, preprocessThreads + 1));
}
