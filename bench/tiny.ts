/**
 * The tiny model carries the fine-grained sweep: (a) raw onnxruntime at each batch size, (b) the service at
 * saturation with the same batch limit and threads, (e) open-model latency at fractions of the measured saturation,
 * and the layout comparison (the default layout vs one single-threaded worker per core).
 */
import type { Layout } from "./plan.ts";
import { DEFAULT_BATCH_DELAY_MS, type Plan } from "./plan.ts";
import { mergeRawLayouts, runRawLayout, type RawLayoutResult } from "./raw-layout.ts";
import { runServiceCase, type PhasePlan, type PhaseResult, type ServiceCaseResult, type ServiceConfig } from "./service-case.ts";

export interface TinyResults {
  readonly raw: RawLayoutResult;
  readonly service: readonly ServiceCaseResult[];
  readonly rawAltLayout: RawLayoutResult | undefined;
  readonly serviceAltLayout: ServiceCaseResult | undefined;
}

/** Requests outstanding at the stream: far above what workers hold (2 × max batch each), so pulls never find it empty. */
const SATURATION_WINDOW = 128;
const TINY_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 120_000;
/** Five untimed runs per batch size: arena growth and the first-run kernel selection stay out of the mean. */
const WARMUP_RUNS = 5;

/**
 * Raw and service are interleaved per batch size (raw at B, then the service at limit B): on a shared machine the
 * neighbours' load drifts within minutes, and each ratio should compare two measurements taken under the same load.
 */
export async function runTiny(plan: Plan, logDir: string, say: (line: string) => void): Promise<TinyResults> {
  const t = plan.tiny;
  const timing = { warmupRuns: WARMUP_RUNS, minRuns: 20, minSeconds: t.rawSeconds };
  const raws: RawLayoutResult[] = [];
  const service: ServiceCaseResult[] = [];
  for (const batch of t.batches) {
    say(`(a) raw onnxruntime, tiny, ${layoutName(plan.layout)}, batch ${batch}`);
    raws.push(await runRawLayout(t.modelDir, plan.layout, [batch], timing, logDir, `tiny-b${batch}`));
    say(`(b) service, tiny, max batch ${batch}, ${layoutName(plan.layout)}${batch === t.defaultBatch ? ", then (e) open-model latency" : ""}`);
    const phases = batch === t.defaultBatch ? [saturation(t.saturateMs), ...openPhases(plan)] : [saturation(t.saturateMs)];
    service.push(await runServiceCase(tinyConfig(plan, batch, plan.layout), phases, logDir));
  }
  const raw = mergeRawLayouts(raws);
  if (!plan.altLayout) return { raw, service, rawAltLayout: undefined, serviceAltLayout: undefined };
  const alt = plan.altLayout;
  say(`layout: raw and service at ${layoutName(alt)}, max batch ${t.defaultBatch}`);
  const rawAltLayout = await runRawLayout(t.modelDir, alt, [t.defaultBatch], timing, logDir, "tiny-alt");
  const serviceAltLayout = await runServiceCase(tinyConfig(plan, t.defaultBatch, alt), [saturation(t.saturateMs)], logDir);
  return { raw, service, rawAltLayout, serviceAltLayout };
}

export function layoutName(l: Layout): string {
  return `${l.workers} worker${l.workers > 1 ? "s" : ""} × ${l.intraOpThreads} thread${l.intraOpThreads > 1 ? "s" : ""}`;
}

function tinyConfig(plan: Plan, maxBatch: number, layout: Layout): ServiceConfig {
  return {
    label: `tiny-b${maxBatch}-${layout.workers}x${layout.intraOpThreads}`,
    modelDir: plan.tiny.modelDir,
    workers: layout.workers,
    intraOpThreads: layout.intraOpThreads,
    maxBatch,
    maxBatchDelayMs: DEFAULT_BATCH_DELAY_MS,
    readyTimeoutMs: READY_TIMEOUT_MS,
  };
}

function saturation(durationMs: number): PhasePlan {
  return { name: "saturation", mode: "saturate", window: SATURATION_WINDOW, durationMs, timeoutMs: TINY_TIMEOUT_MS, steady: { trim: 0.1 } };
}

function openPhases(plan: Plan): PhasePlan[] {
  return plan.tiny.openFractions.map((fraction) => ({
    name: `open ${Math.round(fraction * 100)} %`,
    mode: "open" as const,
    rate: (earlier: readonly PhaseResult[]) => fraction * (earlier[0]?.throughput?.perSec ?? 0),
    durationMs: plan.tiny.openMs,
    timeoutMs: TINY_TIMEOUT_MS,
  }));
}
