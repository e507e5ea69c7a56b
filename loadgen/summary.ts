/** The human summary: the rows report.html shows first and the text printed when a run ends. */
import { formatDurationMs } from "./parse.ts";
import type { Report } from "./report.ts";

const fmt = (v: number, digits = 1) => v.toFixed(digits);

export function summaryRows(r: Report): Array<readonly [string, string]> {
  const s = r.summary;
  const l = s.latency;
  return [
    ["measured", `${formatDurationMs(s.measuredMs)} (${r.config.model} model${r.config.stepped ? `, ${r.phases.length} steps` : ""})`],
    ["requests/s (answered)", fmt(s.answeredPerSec, 2)],
    ["ok verdicts/s", fmt(s.okPerSec, 2)],
    ["offered/s (sent)", fmt(s.offeredPerSec, 2)],
    ["p50", `${fmt(l.p50Ms)} ms`],
    ["p90", `${fmt(l.p90Ms)} ms`],
    ["p95", `${fmt(l.p95Ms)} ms`],
    ["p99", `${fmt(l.p99Ms)} ms`],
    ["p99.9", `${fmt(l.p999Ms)} ms`],
    ["max", `${fmt(l.maxMs)} ms`],
    ["error rate (errors + timeouts)", `${fmt(s.errorRate * 100, 2)}%`],
    ["labels yes / no / maybe", `${s.counts.labels.yes} / ${s.counts.labels.no} / ${s.counts.labels.maybe}`],
    ["answered from verdict cache", String(s.counts.cached)],
    // Only the open model has a schedule to be late against; closed users send when they are ready.
    ["generator send lag p99 / max", r.config.model === "open" ? `${fmt(s.sendLag.p99Ms)} / ${fmt(s.sendLag.maxMs)} ms` : "n/a (closed model)"],
  ];
}

export function formatSummary(r: Report, files?: { json: string; html: string }): string {
  const a = r.accounting;
  const width = Math.max(...summaryRows(r).map(([k]) => k.length));
  const lines = summaryRows(r).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
  const codes = Object.entries(r.summary.counts.byCode).sort((x, y) => y[1] - x[1]);
  if (codes.length > 0) lines.push("  by code:", ...codes.map(([c, n]) => `    ${c.padEnd(34)} ${n}`));
  lines.push(
    `  accounting: sent ${a.sent} = ok ${a.ok} + errored ${a.errored} + timed out ${a.timedOut}` +
      ` (in flight at end ${a.inFlightAtEnd}) ${a.holds ? "✓ balanced" : "✗ DOES NOT BALANCE"}`,
  );
  if (r.phases.some((p) => p.dropped > 0)) lines.push(`  dropped (max in flight reached, never sent): ${r.phases.reduce((n, p) => n + p.dropped, 0)}`);
  lines.push(...serverLines(r));
  if (r.summary.counts.cached > 0) {
    lines.push(`  note: ${r.summary.counts.cached} ok verdicts came from the service's verdict cache (the model did not run for them)`);
  }
  if (r.knee) lines.push(kneeLine(r));
  if (r.slo) lines.push(`  SLO p95 ≤ ${r.slo.sloMs} ms: ${r.slo.pass ? "pass" : "FAIL"} (p95 ${fmt(r.slo.p95Ms)} ms)`);
  if (files) lines.push(`  report: ${files.html}`, `          ${files.json}`);
  return `ofa-entail-loadgen summary\n${lines.join("\n")}\n`;
}

function kneeLine(r: Report): string {
  const k = r.knee!;
  const steps = r.phases.map((p) => `    ${p.name.padEnd(12)} ${fmt(p.okPerSec, 2).padStart(8)} ok/s  p95 ${fmt(p.latency.p95Ms).padStart(8)} ms  ${k.steps[p.index]?.reason ?? "within SLO"}`);
  const head = k.index === undefined
    ? `  knee: none — no step kept p95 ≤ ${k.sloMs} ms`
    : `  knee: ${k.name} — ${fmt(k.okPerSec ?? 0, 2)} ok/s at p95 ${fmt(k.p95Ms ?? 0)} ms (SLO ${k.sloMs} ms)`;
  return [head, ...steps].join("\n");
}

function serverLines(r: Report): string[] {
  const st = r.server.stages;
  if (st.totalMs.count === 0) return [];
  const p = (l: { p50Ms: number; p95Ms: number }) => `${fmt(l.p50Ms)}/${fmt(l.p95Ms)}`;
  const batches = Object.entries(r.server.batchSizes).map(([size, n]) => `${size}×${n}`).join(" ");
  return [
    `  service p50/p95 ms: queue ${p(st.queueMs)}  preprocess ${p(st.preprocessMs)}  batch wait ${p(st.batchWaitMs)}  inference ${p(st.inferenceMs)}  total ${p(st.totalMs)}`,
    `  batch sizes (size×requests): ${batches}   model: ${Object.keys(r.server.models).join(", ")}`,
  ];
}
