/** The markdown the bench writes next to its JSON: the machine first, then one table per item of the issue. */
import { GOALS, type Derived } from "./derive.ts";
import type { Machine } from "./machine.ts";

export interface ReportMeta {
  readonly startedAt: string;
  readonly minutes: number;
  readonly quick: boolean;
  readonly machine: Machine;
  readonly loadAtEnd: readonly number[];
  readonly notes: readonly string[];
}

/** Per-verdict traces of the tiny runs (thousands each) are summarised on disk; the OFA-large ones (a few) are kept. */
const TRACE_KEYS = new Set(["completionsMs", "inferenceMs", "batchSizes", "runsMs", "batches"]);
const TRACE_KEEP = 100;

/** JSON.stringify replacer for the results file: long traces become their length, numbers keep 6 significant digits. */
export function resultsReplacer(key: string, value: unknown): unknown {
  if (TRACE_KEYS.has(key) && Array.isArray(value) && value.length > TRACE_KEEP) return { omitted: value.length };
  if (typeof value === "number" && !Number.isInteger(value)) return Number(value.toPrecision(6));
  return value;
}

const f = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : "–");
const GiB = 1024 ** 3;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function machineSection(meta: ReportMeta): string {
  const m = meta.machine;
  return [
    `# ofa-entail benchmark — ${meta.startedAt}${meta.quick ? " (BENCH_QUICK: smoke run, not for comparison)" : ""}`,
    "",
    table(
      ["machine", ""],
      [
        ["CPU", `${m.cpuModel}, ${m.cores} cores`],
        ["RAM", `${f(m.ramBytes / GiB)} GiB`],
        ["kernel", m.kernel],
        ["Node", m.node],
        ["onnxruntime-node", `${m.onnxruntimeNode} (CPU execution provider)`],
        ["sharp / libvips", `${m.sharp} / ${m.libvips}`],
        ["nats-server / nats.js", `${m.natsServer} / ${m.natsJs}`],
        ["load average (1/5/15 min) at start → end", `${m.loadAtStart.join(" / ")} → ${meta.loadAtEnd.join(" / ")}`],
        ["duration", `${f(meta.minutes)} min`],
      ],
    ),
  ].join("\n");
}

function judge(value: number, goal: number | undefined): string {
  if (goal === undefined) return "";
  return value >= goal ? ` ✅ (≥ ${goal})` : ` ❌ (goal ≥ ${goal})`;
}

function throughputSection(d: Derived): string {
  const rows = d.throughput.map((r) => [
    r.model,
    r.layout,
    String(r.maxBatch),
    f(r.rawPerSec, r.rawPerSec < 1 ? 4 : 1),
    f(r.servicePerSec, r.servicePerSec < 1 ? 4 : 1),
    `**${f(r.ratio, 3)}**${judge(r.ratio, r.goal)}`,
    r.medianRatio === undefined ? "–" : `${f(r.medianRatio, 3)}${judge(r.medianRatio, r.goal)}`,
    r.roundRatios ? r.roundRatios.map((x) => f(x, 3)).join(", ") : "–",
    f(r.realisedBatch, 2),
    `${f(r.rawRunMs, r.rawRunMs < 100 ? 2 : 0)} / ${f(r.serviceRunMs, r.serviceRunMs < 100 ? 2 : 0)}`,
    f(r.inferenceBusy, 3),
    r.medianGapMs === undefined ? "–" : f(r.medianGapMs, 0),
    f(r.load, 2),
  ]);
  return [
    "## (a) raw onnxruntime vs (b) the service at saturation, (c) b / a",
    "",
    table(["model", "layout", "batch limit", "(a) raw samples/s", "(b) service verdicts/s", "(c) b / a", "(c) from medians", "(c) per round", "realised batch", "session.run ms raw / service", "inference busy", "gap between runs ms", "load"], rows),
  ].join("\n");
}

function overheadSection(d: Derived): string {
  const rows = d.overhead.map((r) => [
    r.what,
    `${f(r.cpuMsPerVerdict, 3)}${r.goal !== undefined ? (r.cpuMsPerVerdict <= r.goal ? ` ✅ (≤ ${r.goal})` : ` ❌ (goal ≤ ${r.goal})`) : ""}`,
    r.note,
  ]);
  return ["## (d) CPU time per verdict outside onnxruntime (tiny model, 224² JPEGs)", "", table(["what", "CPU ms / verdict", "how"], rows)].join("\n");
}

function latencySection(d: Derived): string {
  const rows = d.latency.map((r) => [r.phase, f(r.offeredPerSec), f(r.achievedPerSec), f(r.p50Ms), f(r.p95Ms), f(r.p99Ms), f(r.maxMs), String(r.failed), f(r.meanBatch, 2)]);
  return [
    "## (e) latency, open model (fixed arrival rate; from intended send time to verdict; tiny model, default batch limit)",
    "",
    table(["phase", "offered /s", "achieved /s", "p50 ms", "p95 ms", "p99 ms", "max ms", "failed", "realised batch"], rows),
  ].join("\n");
}

function memorySection(d: Derived): string {
  const rows = d.memory.map((r) => [r.config, f(r.supervisorMiB, 0), r.workersMiB.map((w) => f(w, 0)).join(" + "), f(r.totalMiB, 0), f(r.rawMiB, 0)]);
  return ["## (f) peak RSS (VmHWM), MiB", "", table(["service", "supervisor", "worker(s)", "total", "raw onnxruntime process"], rows)].join("\n");
}

function batchSection(d: Derived): string {
  const rows = d.batchGain.map((r) => [r.model, String(r.maxBatch), f(r.batch1PerSec, r.batch1PerSec < 1 ? 4 : 1), f(r.batchedPerSec, r.batchedPerSec < 1 ? 4 : 1), `${f(r.serviceGain, 2)}×`, `${f(r.rawGain, 2)}×`]);
  return ["## (g) batched vs batch-1, end to end", "", table(["model", "batch limit", "service at limit 1 /s", "service at limit /s", "service gain", "raw gain (same batch)"], rows)].join("\n");
}

export function renderMarkdown(meta: ReportMeta, d: Derived): string {
  const parts = [machineSection(meta), throughputSection(d), overheadSection(d), latencySection(d), memorySection(d), batchSection(d)];
  const notes = [
    `Goals (issue 6): b / a ≥ ${GOALS.largeRatio} on the OFA-large-shaped model; bus + protocol ≤ ${GOALS.busMsPerVerdict} ms CPU per verdict.`,
    "Method and how to read each column: bench/README.md.",
    ...meta.notes,
  ];
  parts.push(["## Notes", "", ...notes.map((n) => `- ${n}`)].join("\n"));
  return `${parts.join("\n\n")}\n`;
}
