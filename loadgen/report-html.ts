/**
 * report.html: one self-contained page (inline CSS and SVG, no script, no network) with the figures a
 * reader checks first, the accounting, and the plots: latency percentiles over time, throughput over
 * time, the latency distribution and, in step mode, the throughput–latency curve with the knee.
 */
import type { Report } from "./report.ts";
import { esc, formatNumber, PLOT_CSS, renderPlot, type PlotSpec, type RefLine, type Series } from "./svg.ts";
import { summaryRows } from "./summary.ts";

const COLOR = { p50: "#1f77b4", p90: "#2ca02c", p95: "#9467bd", p99: "#ff7f0e", max: "#d62728", sent: "#7f7f7f", ok: "#1f77b4", errors: "#d62728" };

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:820px;color:#222}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
table{border-collapse:collapse;margin:6px 0}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#17803d;font-weight:600}.bad{color:#c0392b;font-weight:600}
.note{color:#555;font-size:12px}
${PLOT_CSS}`;

export function renderHtml(report: Report): string {
  return [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><title>ofa-entail load report ${esc(report.startedAt)}</title><style>${CSS}</style></head><body>`,
    header(report),
    `<h2>Summary</h2>${table(summaryRows(report))}`,
    accounting(report),
    byCode(report),
    serverSide(report),
    kneeSection(report),
    "<h2>Plots</h2>",
    ...Object.values(renderPlots(report)),
    notes(report),
    "</body></html>",
  ].join("\n");
}

/** Every plot of the report as inline SVG, keyed by plot id (report.html shows them in this order). */
export function renderPlots(report: Report): Record<string, string> {
  const specs: PlotSpec[] = [latencyOverTime(report), throughputOverTime(report), distribution(report)];
  if (report.phases.length > 1) specs.push(throughputLatency(report));
  return Object.fromEntries(specs.map((spec) => [spec.id, renderPlot(spec)]));
}

function header(r: Report): string {
  const c = r.config;
  const load = c.phases.map((p) => esc(p.name)).join(" → ");
  const closed = c.model === "closed" ? `, spawn ${c.spawnRatePerSec}/s, think ${c.thinkMs?.minMs}–${c.thinkMs?.maxMs} ms` : "";
  return `<h1>ofa-entail load report</h1>
<p>${esc(r.startedAt)} · ${c.model} model${c.stepped ? " (step mode)" : ""}${c.preset ? ` · preset ${esc(c.preset)}` : ""} · ${load}${closed}
· ${formatNumber(c.phaseDurationMs / 1000)} s per phase · timeout ${c.timeoutMs} ms · warmup ${c.warmupMs} ms · lane ${esc(c.lane)} · ${esc(c.natsUrl)}</p>`;
}

function table(rows: ReadonlyArray<readonly [string, string]>): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td class="n">${esc(v)}</td></tr>`).join("")}</table>`;
}

function accounting(r: Report): string {
  const a = r.accounting;
  const cls = a.holds ? "ok" : "bad";
  return `<p class="${cls}">sent ${a.sent} = ok ${a.ok} + errored ${a.errored} + timed out ${a.timedOut}` +
    ` (in flight at end ${a.inFlightAtEnd}) — ${a.holds ? "balanced" : "DOES NOT BALANCE"}</p>`;
}

function byCode(r: Report): string {
  const entries = Object.entries(r.summary.counts.byCode).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return "<p>No errors or timeouts.</p>";
  return `<h2>Errors by code</h2><table>${entries.map(([code, n]) => `<tr><th>${esc(code)}</th><td class="n">${n}</td></tr>`).join("")}</table>`;
}

const STAGE_NAMES: Readonly<Record<string, string>> = {
  queueMs: "queue", preprocessMs: "preprocess", batchWaitMs: "batch wait", inferenceMs: "inference", totalMs: "total in service",
};

function serverSide(r: Report): string {
  const sv = r.server;
  const rows = Object.entries(sv.stages).filter(([, l]) => l.count > 0).map(([stage, l]) =>
    `<tr><th>${esc(STAGE_NAMES[stage] ?? stage)}</th>${[l.p50Ms, l.p95Ms, l.p99Ms, l.maxMs].map((v) => `<td class="n">${formatNumber(v)} ms</td>`).join("")}</tr>`);
  if (rows.length === 0) return "";
  const batches = Object.entries(sv.batchSizes).map(([size, n]) => `${size}: ${n}`).join(", ");
  const models = Object.entries(sv.models).map(([m, n]) => `${esc(m)} (${n})`).join(", ");
  return `<h2>Inside the service (from the verdicts)</h2>
<table><tr><th>stage</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>${rows.join("")}</table>
<p>Requests by batch size — ${esc(batches)}. Model: ${models}.</p>`;
}

function kneeSection(r: Report): string {
  if (!r.knee) return "";
  const k = r.knee;
  const head = k.index === undefined
    ? `<p class="bad">No step kept p95 within ${k.sloMs} ms (with errors ≤ ${formatNumber(k.maxErrorRate * 100)}%).</p>`
    : `<p class="ok">Knee: ${esc(k.name ?? "")} — ${formatNumber(k.okPerSec ?? 0)} ok/s at p95 ${formatNumber(k.p95Ms ?? 0)} ms (SLO ${k.sloMs} ms).</p>`;
  const rows = r.phases.map((p) => {
    const v = k.steps[p.index];
    return `<tr><th>${esc(p.name)}</th><td class="n">${formatNumber(p.okPerSec)} ok/s</td><td class="n">p95 ${formatNumber(p.latency.p95Ms)} ms</td>` +
      `<td class="n">${formatNumber(p.errorRate * 100)}% errors</td><td class="${v?.withinSlo ? "ok" : "bad"}">${esc(v?.reason ?? "within SLO")}</td></tr>`;
  });
  return `<h2>Steps</h2>${head}<table>${rows.join("")}</table>`;
}

function phaseLines(r: Report): RefLine[] {
  return r.phases.length < 2 ? [] : r.phases.map((p) => ({ at: p.startOffsetMs / 1000, label: p.name }));
}

function latencyOverTime(r: Report) {
  const withData = r.timeline.filter((p) => p.ok + p.errored + p.timedOut > 0);
  const pick = (name: string, color: string, f: (p: Report["timeline"][number]) => number, dashed = false): Series => ({
    name, color, dashed, points: withData.map((p) => [p.t + 0.5, f(p)] as const),
  });
  return {
    id: "latency-over-time", title: "Latency percentiles per second", xLabel: "time (s)", yLabel: "latency (ms)",
    series: [pick("p50", COLOR.p50, (p) => p.p50Ms), pick("p90", COLOR.p90, (p) => p.p90Ms), pick("p99", COLOR.p99, (p) => p.p99Ms), pick("max", COLOR.max, (p) => p.maxMs, true)],
    vLines: phaseLines(r),
    xMin: 0,
  };
}

function throughputOverTime(r: Report) {
  const pts = (f: (p: Report["timeline"][number]) => number) => r.timeline.map((p) => [p.t + 0.5, f(p)] as const);
  return {
    id: "throughput-over-time", title: "Throughput per second", xLabel: "time (s)", yLabel: "requests / s",
    series: [
      { name: "sent", color: COLOR.sent, points: pts((p) => p.sent) },
      { name: "ok", color: COLOR.ok, points: pts((p) => p.ok) },
      { name: "errors+timeouts", color: COLOR.errors, points: pts((p) => p.errored + p.timedOut) },
    ],
    vLines: phaseLines(r),
    xMin: 0,
  };
}

/** HdrHistogram's percentile spectrum: x = log10(1/(1−p)), so 90%, 99%, 99.9% are evenly spaced; max at the right end. */
function distribution(r: Report) {
  const finite = r.distribution.filter((d) => d.percentile < 100);
  const points: Array<readonly [number, number]> = finite.map((d) => [-Math.log10(1 - d.percentile / 100), d.valueMs] as const);
  const maxPoint = r.distribution.find((d) => d.percentile >= 100);
  if (maxPoint && points.length > 0) points.push([points[points.length - 1]![0] + 0.05, maxPoint.valueMs]);
  const xMax = points.length > 0 ? points[points.length - 1]![0] : 1;
  const labels = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"];
  const ticks = labels.slice(0, Math.floor(xMax) + 1).map((label, i) => ({ value: i, label }));
  return {
    id: "latency-distribution", title: "Latency by percentile (all measured requests)", xLabel: "percentile", yLabel: "latency (ms)",
    series: [{ name: "latency", color: COLOR.p50, points }],
    xTicks: ticks,
  };
}

function throughputLatency(r: Report) {
  const pts = (f: (p: Report["phases"][number]) => number) => r.phases.map((p) => [p.okPerSec, f(p)] as const);
  const knee = r.knee?.okPerSec;
  return {
    id: "throughput-latency", title: "Throughput vs latency per step", xLabel: "ok verdicts / s", yLabel: "latency (ms)",
    series: [
      { name: "p50", color: COLOR.p50, points: pts((p) => p.latency.p50Ms), markers: true },
      { name: "p95", color: COLOR.p95, points: pts((p) => p.latency.p95Ms), markers: true },
      { name: "p99", color: COLOR.p99, points: pts((p) => p.latency.p99Ms), markers: true },
    ],
    hLines: r.knee ? [{ at: r.knee.sloMs, label: `SLO p95 ${r.knee.sloMs} ms`, color: COLOR.errors }] : [],
    vLines: knee !== undefined ? [{ at: knee, label: "knee", color: "#17803d" }] : [],
  };
}

function notes(r: Report): string {
  const h = r.histogram;
  return `<h2>How to read this</h2><p class="note">Latency is measured from the ${esc(r.config.latencyFrom)}.
Every request is in the percentiles, a timed-out one at the moment it was given up (a lower bound).
Recorded in ${esc(h.unit)} with ${h.significantDigits} significant digits (${esc(h.library)}): each value is within ${h.relativeError * 100}% of what was measured; nothing is rounded first.
Rates count the measured part of each phase (after the warmup). Sent/s, ok/s per second in the plots include the warmup.</p>`;
}
