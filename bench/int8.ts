/**
 * int8 vs fp32 on the OFA-large shape (issue 17), in the same run and with the same layout as the fp32 section
 * (bench/large.ts): the fp32 figures are that section's, pooled over its rounds; this module measures the int8 graph
 * (model.int8.onnx of the same directory, `npm run model:large -- --int8`) the same way, raw onnxruntime then the
 * service with OFA_PRECISION=int8, per batch size, and then their agreement on 64 fixed inputs (scripts/agreement.ts,
 * as a child process: two OFA-large sessions one after the other, never alongside the bench's own).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AgreementReport } from "./agreement.ts";
import { goal, type Goal } from "./goals.ts";
import { largeConfig, saturation, type LargeResults } from "./large.ts";
import type { LargePlan, Plan } from "./plan.ts";
import { runRawLayout, type RawLayoutResult } from "./raw-layout.ts";
import { runServiceCase, type ServiceCaseResult } from "./service-case.ts";
import { mean } from "./stats.ts";

/** issue 17: int8 must give at least twice the fp32 throughput through the service on the same cores. */
const INT8_SPEEDUP_GOAL = 2.0;
const AGREEMENT_SAMPLES = 64;
const AGREEMENT_SCRIPT = fileURLToPath(new URL("../scripts/agreement.ts", import.meta.url));

interface Int8Point {
  readonly batch: number;
  readonly raw: { readonly fp32PerSec: number; readonly int8PerSec: number; readonly speedup: number };
  /** Raw loop CPU time per sample (every onnxruntime thread): less moved by neighbours than wall-clock rates. */
  readonly rawCpuMsPerSample: { readonly fp32: number; readonly int8: number; readonly ratio: number };
  readonly service: { readonly fp32PerSec: number; readonly int8PerSec: number; readonly speedup: number };
  /** Highest VmHWM of one raw loop / one service worker, per precision. */
  readonly peakRssBytes: { readonly rawFp32: number; readonly rawInt8: number; readonly workerFp32: number; readonly workerInt8: number };
}

export interface Int8Results {
  readonly modelDir: string;
  readonly points: readonly Int8Point[];
  readonly raw: RawLayoutResult[];
  readonly service: ServiceCaseResult[];
  readonly agreement: AgreementReport | undefined;
}

/** Why the int8 section cannot run on this directory, or undefined when it can. */
export function int8Unavailable(modelDir: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(modelDir, "manifest.json"), "utf8")) as { onnx?: { int8?: string | null } };
    if (manifest.onnx?.int8) return undefined;
  } catch {
    return `no readable manifest in ${modelDir}`;
  }
  return `${modelDir} has no int8 variant: make it with \`npm run model:large -- --int8\` (≈ 1 min, adds ≈ 0.7 GB), then run the bench again.`;
}

export async function runInt8(plan: Plan, large: LargePlan, fp32: LargeResults, logDir: string, say: (line: string) => void): Promise<Int8Results> {
  const raws: RawLayoutResult[] = [];
  const service: ServiceCaseResult[] = [];
  const points: Int8Point[] = [];
  const timing = { warmupRuns: 2, minRuns: 2, minSeconds: large.secondsPerBatch, precision: "int8" as const };
  for (const batch of large.batches) {
    say(`(int8) raw onnxruntime, OFA-large shape int8, batch ${batch} (≈ ${large.secondsPerBatch} s)`);
    const raw = await runRawLayout(large.modelDir, plan.layout, [batch], timing, logDir, `int8-b${batch}`);
    const runMs = raw.points[0]!.meanRunMs;
    const timed = Math.min(10, Math.max(2, Math.round((large.secondsPerBatch * 1000) / runMs)));
    say(`    ${(runMs / 1000).toFixed(2)} s per run; (int8) service OFA_PRECISION=int8, max batch ${batch}, ${timed} timed batches`);
    const config = { ...largeConfig(plan, large, batch), label: `int8-b${batch}`, precision: "int8" as const };
    const svc = await runServiceCase(config, [saturation(batch, timed, plan.layout.workers)], logDir);
    raws.push(raw);
    service.push(svc);
    points.push(pointOf(batch, fp32, raw, svc));
  }
  say(`(int8) agreement with fp32 on ${AGREEMENT_SAMPLES} fixed inputs (fp32 pass, then int8)`);
  const agreement = await runAgreement(large.modelDir, plan.layout.workers * plan.layout.intraOpThreads, logDir);
  return { modelDir: large.modelDir, points, raw: raws, service, agreement };
}

function perSec(s: ServiceCaseResult): number {
  return s.phases[0]?.throughput?.perSec ?? 0;
}

function pointOf(batch: number, fp32: LargeResults, raw: RawLayoutResult, svc: ServiceCaseResult): Int8Point {
  const fpRaw = fp32.raw.points.filter((p) => p.batch === batch);
  const fpRawLoops = fp32.raw.loops.filter((l) => l.points.some((p) => p.batch === batch));
  const fpSvc = fp32.service.filter((s) => s.config.maxBatch === batch);
  const rawFp32 = mean(fpRaw.map((p) => p.samplesPerSec));
  const svcFp32 = mean(fpSvc.map(perSec));
  const rawInt8 = raw.points[0]!.samplesPerSec;
  const cpuFp32 = mean(fpRaw.map((p) => p.cpuMsPerSample));
  const cpuInt8 = raw.points[0]!.cpuMsPerSample;
  const svcInt8 = perSec(svc);
  const worker = (cases: readonly ServiceCaseResult[]) => Math.max(0, ...cases.flatMap((c) => c.memory.workerPeakRssBytes));
  return {
    batch,
    raw: { fp32PerSec: rawFp32, int8PerSec: rawInt8, speedup: rawInt8 / rawFp32 },
    rawCpuMsPerSample: { fp32: cpuFp32, int8: cpuInt8, ratio: cpuFp32 / cpuInt8 },
    service: { fp32PerSec: svcFp32, int8PerSec: svcInt8, speedup: svcInt8 / svcFp32 },
    peakRssBytes: {
      rawFp32: Math.max(0, ...fpRawLoops.map((l) => l.peakRssBytes)),
      rawInt8: Math.max(0, ...raw.loops.map((l) => l.peakRssBytes)),
      workerFp32: worker(fpSvc),
      workerInt8: worker([svc]),
    },
  };
}

/** scripts/agreement.ts --json in its own process; its stderr goes to the log directory. */
async function runAgreement(modelDir: string, threads: number, logDir: string): Promise<AgreementReport> {
  const args = [AGREEMENT_SCRIPT, "--model-dir", modelDir, "--count", String(AGREEMENT_SAMPLES), "--threads", String(threads), "--json"];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  if (code !== 0) throw new Error(`agreement exited ${code}: ${err.trim().split("\n").pop() ?? ""} (logs: ${logDir})`);
  return JSON.parse(out.trim().split("\n").pop()!) as AgreementReport;
}

/** The `goals` entries of this section (results JSON, top-level `goals`): service speedup at batch 1. */
export function int8Goals(r: Int8Results | undefined): Goal[] {
  const point = r?.points.find((p) => p.batch === 1) ?? r?.points[0];
  if (!point) return [];
  const value = point.service.speedup;
  return [goal("large.int8_speedup", value, INT8_SPEEDUP_GOAL, "higher")];
}

const f = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : "–");
const MiB = 1024 ** 2;

/** The markdown section: one row per batch size, then the agreement line. */
export function renderInt8(r: Int8Results | undefined, note?: string): string {
  const lines = ["## int8 vs fp32, OFA-large shape (issue 17)", ""];
  if (!r) return [...lines, note ?? "not measured (see the notes).", ""].join("\n");
  lines.push(
    "| batch | raw fp32 /s | raw int8 /s | raw speedup | raw CPU ms/sample fp32 / int8 (ratio) | service fp32 /s | service int8 /s | service speedup (goal ≥ 2.0) | peak RSS raw fp32 / int8 MiB | peak RSS worker fp32 / int8 MiB |",
    "|---|---|---|---|---|---|---|---|---|---|",
  );
  for (const p of r.points) {
    const m = p.peakRssBytes;
    const c = p.rawCpuMsPerSample;
    lines.push(`| ${p.batch} | ${f(p.raw.fp32PerSec, 3)} | ${f(p.raw.int8PerSec, 3)} | ${f(p.raw.speedup)}× | ${f(c.fp32, 0)} / ${f(c.int8, 0)} (${f(c.ratio)}×) | ${f(p.service.fp32PerSec, 3)} | ${f(p.service.int8PerSec, 3)} | ${f(p.service.speedup)}× | ${f(m.rawFp32 / MiB, 0)} / ${f(m.rawInt8 / MiB, 0)} | ${f(m.workerFp32 / MiB, 0)} / ${f(m.workerInt8 / MiB, 0)} |`);
  }
  const a = r.agreement;
  if (a) {
    const e = (v: number) => (Number.isFinite(v) ? v.toExponential(1) : "–");
    lines.push("", `Agreement, int8 vs fp32 on ${a.samples} fixed inputs (random weights: agreement, not accuracy): max |Δscore| ${e(a.maxAbsDelta)}, mean |Δscore| ${e(a.meanAbsDelta)}, equal labels ${a.equalLabels}/${a.samples} (${f(a.labelAgreement * 100, 1)} %; fp32 labels ${JSON.stringify(a.referenceLabels)}); max |Δlogit| ${f(a.maxAbsLogitDelta, 3)}, mean ${f(a.meanAbsLogitDelta, 3)}, on logits up to ${f(a.maxAbsLogit, 1)}.`);
  }
  return [...lines, ""].join("\n");
}
