/**
 * CPU-side capacity: the real service (supervisor, worker, nats-server, publisher on the same cores) with a model
 * that obeys the OFA contract at OFA-large's 480² input but costs next to nothing to run (the exporter's
 * `--config nano480`: the tiny model's sizes at 480 px), fed photo-like 1024×768 JPEGs at saturation. What it
 * measures is everything but the model: decode, the exact resize, normalisation, tokenisation, batching, the bus.
 * One onnxruntime thread: a spinning second one would only take the core preprocessing needs.
 * The model directory is generated once into the cache (≈ 1 MB, a few seconds; never committed).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { goal, type Goal } from "./goals.ts";
import { PILLOW_PYTHON } from "./pillow.ts";
import { runServiceCase, type ServiceCaseResult } from "./service-case.ts";

const CPU_SIDE_GOAL_PER_SEC = 100;
const EXPORTER = fileURLToPath(new URL("../models/export/export.py", import.meta.url));
const PHOTO = { width: 1024, height: 768 } as const;

// Bumped whenever the exporter's nano480 graph changes (r2: one head, d 8, the encoder's row-block bias; r3: the
// decoder's query-side cross-attention and the first layer's image state; r4: the encoder's attention as
// MultiHeadAttention), so a cached export of an older graph is not measured by mistake.
const NANO_REVISION = "r4";

function nanoModelDir(): string {
  return process.env.BENCH_NANO_MODEL_DIR ?? join(homedir(), `.cache/ofa-entail/models/nano480-${NANO_REVISION}`);
}

async function ensureNanoModel(dir: string): Promise<void> {
  if (existsSync(join(dir, "manifest.json"))) return;
  await new Promise<void>((resolve, reject) => {
    execFile(PILLOW_PYTHON, [EXPORTER, "--config", "nano480", "--seed", "0", "--out", dir], { timeout: 300_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`nano480 export failed: ${err.message}\n${stderr.slice(-2000)}`)) : resolve());
  });
}

export interface CpuSideResult {
  readonly verdictsPerSec: number;
  readonly meanBatch: number;
  readonly meanPreprocessMs: number;
  readonly meanInferenceMs: number;
  /** CPU ms per verdict per party over the steady window. */
  readonly cpuMsPerVerdict: Record<string, number> | undefined;
  readonly failed: number;
  readonly case: ServiceCaseResult;
  readonly goals: readonly Goal[];
}

export async function measureCpuSide(quick: boolean, logDir: string): Promise<CpuSideResult> {
  const modelDir = nanoModelDir();
  await ensureNanoModel(modelDir);
  const result = await runServiceCase(
    { label: "cpu-side-nano480", modelDir, workers: 1, intraOpThreads: 1, maxBatch: 8, maxBatchDelayMs: 5, readyTimeoutMs: 120_000 },
    [{
      name: "saturation, 1024×768 JPEGs",
      mode: "saturate",
      window: 64,
      durationMs: quick ? 8_000 : 30_000,
      maxCount: Number.MAX_SAFE_INTEGER,
      timeoutMs: 60_000,
      steady: { trim: 0.15 },
      image: PHOTO,
    }],
    logDir,
  );
  const phase = result.phases[0]!;
  const perSec = phase.throughput?.perSec ?? 0;
  return {
    verdictsPerSec: perSec,
    meanBatch: phase.server.meanBatchSize,
    meanPreprocessMs: phase.server.meanPreprocessMs,
    meanInferenceMs: phase.server.meanInferenceMs,
    cpuMsPerVerdict: phase.cpuMsPerVerdict,
    failed: phase.publisher.failed,
    case: result,
    goals: [goal("cpu_side.verdicts_per_s", perSec, CPU_SIDE_GOAL_PER_SEC, "higher")],
  };
}

export function renderCpuSide(r: CpuSideResult): string {
  const cpu = r.cpuMsPerVerdict ? Object.entries(r.cpuMsPerVerdict).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ") : "n/a";
  return [
    "## CPU-side capacity (nano480 model, 1024×768 JPEGs, 1 worker × 1 onnxruntime thread, max batch 8)",
    "",
    `${r.verdictsPerSec.toFixed(1)} verdicts/s (goal ≥ ${CPU_SIDE_GOAL_PER_SEC}); mean batch ${r.meanBatch.toFixed(2)}, preprocessing ${r.meanPreprocessMs.toFixed(2)} ms wall, ` +
      `session.run ${r.meanInferenceMs.toFixed(2)} ms per batch; CPU ms per verdict: ${cpu}; failed ${r.failed}.`,
    "",
  ].join("\n");
}
