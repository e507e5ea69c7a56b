/**
 * Workers × onnxruntime threads per host. On CPU, one session per core would split the cores' caches and memory
 * bandwidth between copies of the model; fewer workers with more intra-op threads batch better, and a second worker
 * only pays off once a core is left for preprocessing (sharp) and the bus. So: cores ≤ 2 → 1 worker × all cores;
 * more → a worker per 2 cores × 2 threads. Measured on 2 cores (bench/results): for OFA-large, 1×2 and 2×1 give the
 * same throughput but 2×1 doubles latency and memory (2 × 4.2 GB); for a small fast model 2×1 is ~33 % faster, so
 * set OFA_WORKERS=2 there. On a GPU (webgpu, cuda): 1 worker per GPU (two would only queue on the same device), 1 CPU
 * thread each.
 * Explicit settings always win.
 */
import type { ExecutionProvider } from "../model/providers.ts";

export interface Layout {
  readonly workers: number;
  readonly intraOpThreads: number;
}

export function chooseLayout(cores: number, requested: { workers: number; intraOpThreads: number; executionProvider: ExecutionProvider }): Layout {
  if (requested.executionProvider !== "cpu") {
    return { workers: requested.workers || 1, intraOpThreads: requested.intraOpThreads || 1 };
  }
  const threads = requested.intraOpThreads || (requested.workers ? Math.max(1, Math.floor(cores / requested.workers)) : cores <= 2 ? cores : 2);
  const workers = requested.workers || Math.max(1, Math.floor(cores / threads));
  return { workers, intraOpThreads: threads };
}
