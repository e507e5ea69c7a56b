/**
 * The report: everything a reader needs to trust or reject a run, as one JSON-able object, built from
 * the recorder's books after the drain. report.json is this object; report.html draws it.
 */
import { cpus, hostname } from "node:os";
import { errorRate, settledCount, type Counts } from "./counts.ts";
import { HISTOGRAM_RESOLUTION, type LatencySummary } from "./histogram.ts";
import type { ImageItem } from "./images.ts";
import type { LoadOptions, PhaseTarget } from "./options.ts";
import type { PhaseStats, Recorder } from "./recorder.ts";
import type { ServerSideReport } from "./server-side.ts";
import { findKnee, type Knee } from "./step.ts";
import type { Workload } from "./workload.ts";

const REPORT_VERSION = 1;

interface Rates {
  /** Requests sent per second. */
  readonly offeredPerSec: number;
  /** Answers (ok or error verdicts) per second. */
  readonly answeredPerSec: number;
  readonly okPerSec: number;
}

export interface PhaseReport extends Rates {
  readonly index: number;
  readonly name: string;
  readonly target: PhaseTarget;
  readonly durationMs: number;
  /** When the phase began, from the start of the run (places the phase on the timeline). */
  readonly startOffsetMs: number;
  /** Sending time after the warmup, the denominator of the rates. */
  readonly measuredMs: number;
  readonly counts: Counts;
  readonly errorRate: number;
  readonly latency: LatencySummary;
  readonly dropped: number;
}

export interface Accounting {
  readonly sent: number;
  readonly ok: number;
  readonly errored: number;
  readonly timedOut: number;
  readonly inFlightAtEnd: number;
  /** Settlements of unknown ids: always 0 unless the books are broken. */
  readonly strays: number;
  /** sent = ok + errored + timedOut, nothing left in flight, no strays. */
  readonly holds: boolean;
}

export interface TimelinePoint {
  /** Seconds since the run started (start of the one-second window). */
  readonly t: number;
  readonly sent: number;
  readonly ok: number;
  readonly errored: number;
  readonly timedOut: number;
  readonly inFlight: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface Report {
  readonly tool: "ofa-entail-loadgen";
  readonly reportVersion: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly config: ReturnType<typeof describeConfig>;
  readonly workload: ReturnType<typeof describeWorkload>;
  readonly environment: { node: string; platform: string; cpus: number; host: string };
  readonly histogram: typeof HISTOGRAM_RESOLUTION;
  readonly accounting: Accounting;
  readonly summary: Rates & { measuredMs: number; errorRate: number; counts: Counts; latency: LatencySummary; sendLag: LatencySummary };
  readonly phases: readonly PhaseReport[];
  /** From the verdicts: the service's stage timings, batch sizes and models. */
  readonly server: ServerSideReport;
  readonly knee: Knee | undefined;
  /** Plain runs with --slo: did p95 stay within it? */
  readonly slo: { readonly p95Ms: number; readonly sloMs: number; readonly pass: boolean } | undefined;
  readonly timeline: readonly TimelinePoint[];
  /** Percentile spectrum of all measured latencies. */
  readonly distribution: ReadonlyArray<{ percentile: number; valueMs: number }>;
  /** The run's whole latency histogram (µs), HdrHistogram compressed base64. */
  readonly encodedHistogram: string;
}

export interface ReportInput {
  readonly options: LoadOptions;
  readonly recorder: Recorder;
  readonly workload: Workload;
  readonly startedAt: Date;
  readonly finishedAt: Date;
}

export function buildReport({ options, recorder, workload, startedAt, finishedAt }: ReportInput): Report {
  const phases = recorder.phases.filter((p) => p.startedAt !== undefined).map((p) => phaseReport(p, recorder.startedAt));
  const measuredMs = phases.reduce((a, p) => a + p.measuredMs, 0);
  const counts = sumCounts(phases.map((p) => p.counts));
  const latency = recorder.latency.summary();
  return {
    tool: "ofa-entail-loadgen",
    reportVersion: REPORT_VERSION,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    config: describeConfig(options),
    workload: describeWorkload(workload, options),
    environment: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length, host: hostname() },
    histogram: HISTOGRAM_RESOLUTION,
    accounting: accounting(recorder),
    summary: { ...rates(counts, measuredMs), measuredMs, errorRate: errorRate(counts), counts, latency, sendLag: recorder.sendLag.summary() },
    phases,
    server: recorder.server.report(),
    knee: options.stepped && options.sloMs !== undefined ? findKnee(phases.map(stepPoint), options.sloMs, options.maxErrorRate) : undefined,
    slo: !options.stepped && options.sloMs !== undefined ? { p95Ms: latency.p95Ms, sloMs: options.sloMs, pass: latency.p95Ms <= options.sloMs } : undefined,
    timeline: recorder.timeline.map(timelinePoint),
    distribution: recorder.latency.spectrum(),
    encodedHistogram: recorder.latency.encode(),
  };
}

function phaseReport(stats: PhaseStats, runStartedAt: number): PhaseReport {
  const measuredMs = Math.max(0, (stats.endedAt ?? stats.measureFrom!) - stats.measureFrom!);
  return {
    index: stats.phase.index,
    name: stats.phase.name,
    target: stats.phase.target,
    durationMs: stats.phase.durationMs,
    startOffsetMs: stats.startedAt! - runStartedAt,
    measuredMs,
    ...rates(stats.counts, measuredMs),
    counts: stats.counts,
    errorRate: errorRate(stats.counts),
    latency: stats.latency.summary(),
    dropped: stats.dropped,
  };
}

function rates(c: Counts, measuredMs: number): Rates {
  const perSec = (n: number) => (measuredMs > 0 ? (n * 1000) / measuredMs : 0);
  return { offeredPerSec: perSec(c.sent), answeredPerSec: perSec(c.ok + c.errored), okPerSec: perSec(c.ok) };
}

function stepPoint(p: PhaseReport) {
  return { index: p.index, name: p.name, okPerSec: p.okPerSec, p95Ms: p.latency.p95Ms, errorRate: p.errorRate, settled: settledCount(p.counts) };
}

function accounting(r: Recorder): Accounting {
  const { sent, ok, errored, timedOut } = r.totals;
  const holds = sent === ok + errored + timedOut + r.inFlight && r.inFlight === 0 && r.strays === 0;
  return { sent, ok, errored, timedOut, inFlightAtEnd: r.inFlight, strays: r.strays, holds };
}

function timelinePoint(s: Recorder["timeline"][number], t: number): TimelinePoint {
  return {
    t,
    sent: s.sent,
    ok: s.counts.ok,
    errored: s.counts.errored,
    timedOut: s.counts.timedOut,
    inFlight: s.inFlight,
    p50Ms: s.latency.atPercentileMs(50),
    p90Ms: s.latency.atPercentileMs(90),
    p99Ms: s.latency.atPercentileMs(99),
    maxMs: s.latency.summary().maxMs,
  };
}

function sumCounts(all: readonly Counts[]): Counts {
  const total: Counts = { sent: 0, ok: 0, errored: 0, timedOut: 0, byCode: {}, labels: { yes: 0, no: 0, maybe: 0 }, cached: 0 };
  for (const c of all) {
    total.sent += c.sent;
    total.ok += c.ok;
    total.errored += c.errored;
    total.timedOut += c.timedOut;
    total.cached += c.cached;
    for (const l of ["yes", "no", "maybe"] as const) total.labels[l] += c.labels[l];
    for (const [code, n] of Object.entries(c.byCode)) total.byCode[code] = (total.byCode[code] ?? 0) + n;
  }
  return total;
}

function describeConfig(o: LoadOptions) {
  return {
    preset: o.preset ?? null,
    model: o.model,
    stepped: o.stepped,
    natsUrl: redactUrl(o.natsUrl),
    lane: o.lane,
    phaseDurationMs: o.phases[0]?.durationMs ?? 0,
    phases: o.phases.map((p) => ({ name: p.name, target: p.target })),
    spawnRatePerSec: o.model === "closed" ? o.spawnRatePerSec : null,
    thinkMs: o.model === "closed" ? o.thinkMs : null,
    timeoutMs: o.timeoutMs,
    warmupMs: o.warmupMs,
    sloMs: o.sloMs ?? null,
    maxErrorRate: o.maxErrorRate,
    maxInFlight: o.maxInFlight,
    maxRequests: o.maxRequests ?? null,
    seed: o.seed,
    latencyFrom: o.model === "open" ? "intended send time (schedule slot)" : "actual send time",
  };
}

function describeWorkload(w: Workload, o: LoadOptions) {
  const formats: Record<string, number> = {};
  for (const img of w.images) formats[img.format] = (formats[img.format] ?? 0) + 1;
  const sides = w.images.map((i: ImageItem) => Math.max(i.width, i.height));
  return {
    imageSource: o.images.kind === "dir" ? `dir ${o.images.dir}` : `generated (${o.images.count})`,
    images: w.images.length,
    formats,
    minSide: Math.min(...sides),
    maxSide: Math.max(...sides),
    meanImageBytes: Math.round(w.images.reduce((a, i) => a + i.bytes.byteLength, 0) / Math.max(1, w.images.length)),
    uniqueImages: o.uniqueImages,
    texts: w.texts.length,
    premises: w.premises.length,
  };
}

/** Credentials in a NATS URL (nats://user:pass@host) never reach a report. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/,]*@/g, "//***@");
}
