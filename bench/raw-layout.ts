/**
 * The raw baseline for a layout: one raw-onnxruntime process per service worker, all at once, each with the
 * worker's thread count. A 2 × 1 service is then compared with two 1-thread loops sharing the same cores,
 * not with one loop that would have the machine to itself.
 */
import { join } from "node:path";
import type { Layout } from "./plan.ts";
import { runChild } from "./children.ts";
import type { RawPoint, RawProgress, RawResult, RawSpec } from "./raw-ort.ts";
import { mean, median } from "./stats.ts";

export interface RawLayoutResult {
  readonly layout: Layout;
  readonly loops: readonly RawResult[];
  /** Per batch size: samples/s summed over the loops; times and CPU averaged. */
  readonly points: readonly RawPoint[];
}

export type RawTiming = Pick<RawSpec, "warmupRuns" | "minRuns" | "minSeconds" | "precision">;

export async function runRawLayout(
  modelDir: string,
  layout: Layout,
  batches: readonly number[],
  timing: RawTiming,
  logDir: string,
  label: string,
  onPoint?: (p: RawPoint) => void,
): Promise<RawLayoutResult> {
  const spec: RawSpec = { modelDir, intraOpThreads: layout.intraOpThreads, batches, ...timing };
  const loops = await Promise.all(
    Array.from({ length: layout.workers }, (_, i) => {
      const child = runChild<RawSpec, RawProgress, RawResult>("./raw-ort.ts", spec, { logFile: join(logDir, `raw-${label}-${i}.log`) });
      if (i === 0 && onPoint) child.onProgress(onPoint);
      return child.result;
    }),
  );
  return { layout, loops, points: batches.map((batch) => combine(batch, loops)) };
}

/** One result from several runs of the same layout (e.g. one batch size each, interleaved with the service). */
export function mergeRawLayouts(parts: readonly RawLayoutResult[]): RawLayoutResult {
  return { layout: parts[0]!.layout, loops: parts.flatMap((p) => p.loops), points: parts.flatMap((p) => p.points) };
}

function combine(batch: number, loops: readonly RawResult[]): RawPoint {
  const points = loops.map((l) => l.points.find((p) => p.batch === batch)!);
  return {
    batch,
    runs: points.reduce((a, p) => a + p.runs, 0),
    meanRunMs: mean(points.map((p) => p.meanRunMs)),
    medianRunMs: median(points.map((p) => p.medianRunMs)),
    minRunMs: Math.min(...points.map((p) => p.minRunMs)),
    maxRunMs: Math.max(...points.map((p) => p.maxRunMs)),
    samplesPerSec: points.reduce((a, p) => a + p.samplesPerSec, 0),
    cpuMsPerSample: mean(points.map((p) => p.cpuMsPerSample)),
    ...(points.every((p) => p.runsMs) ? { runsMs: points.flatMap((p) => p.runsMs!) } : {}),
  };
}
