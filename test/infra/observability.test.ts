/**
 * infra/observability: the alert rules and the Grafana dashboard only name metrics (and labels)
 * that the service exports, as listed by src/metrics/definitions.ts; the rules cover the alerts
 * operations asked for; the dashboard points at the data source compose provisions.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import { parse } from "yaml";
import {
  collectProcessMetrics,
  createSupervisorMetrics,
  createWorkerMetrics,
  exportedMetricNames,
} from "../../src/metrics/definitions.ts";

const file = (rel: string) => fileURLToPath(new URL(`../../infra/${rel}`, import.meta.url));
const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"];
/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = new Set(["instance", "job"]);
const PROMQL_WORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "inf", "nan"]);

interface Family {
  type: string;
  labels: Set<string>;
}

/** Name → type and label names, from the same constructors the service uses. */
async function exportedFamilies(): Promise<Map<string, Family>> {
  const worker = new Registry();
  const supervisor = new Registry();
  createWorkerMetrics(worker);
  createSupervisorMetrics(supervisor);
  collectProcessMetrics(worker);
  const out = new Map<string, Family>();
  for (const registry of [worker, supervisor]) {
    for (const m of registry.getMetricsAsArray() as unknown as { name: string; labelNames?: string[] }[]) {
      const json = (await registry.getSingleMetric(m.name)!.get()) as unknown as { type: string; values: { labels: Record<string, unknown> }[] };
      const labels = new Set([...(m.labelNames ?? []), ...json.values.flatMap((v) => Object.keys(v.labels))]);
      out.set(m.name, { type: String(json.type), labels });
    }
  }
  return out;
}

interface ExprRefs {
  metrics: string[];
  labels: string[];
  byLabels: string[];
}

/** Metric and label names referenced by a PromQL expression. */
function referencesIn(expr: string): ExprRefs {
  const labels: string[] = [];
  const byLabels: string[] = [];
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  rest = rest.replace(/\{([^}]*)\}/g, (_m, inner: string) => {
    for (const l of inner.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) labels.push(l[1]!);
    return " ";
  });
  rest = rest.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_m, _w, inner: string) => {
    for (const l of inner.split(",").map((s) => s.trim()).filter(Boolean)) byLabels.push(l);
    return " ";
  });
  rest = rest.replace(/\[[^\]]*\]/g, " ").replace(/\b\d+(?:\.\d+)?(?:e[-+]?\d+)?\b/gi, " ");
  const metrics = [...rest.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\(|[a-zA-Z0-9_:])/g)]
    .map((m) => m[0])
    .filter((t) => !PROMQL_WORDS.has(t.toLowerCase()));
  return { metrics, labels, byLabels };
}

/** The family a series name belongs to (histogram series carry _bucket/_sum/_count). */
function familyOf(series: string, families: Map<string, Family>): string | undefined {
  if (families.has(series)) return series;
  for (const suffix of HISTOGRAM_SUFFIXES) {
    const base = series.endsWith(suffix) ? series.slice(0, -suffix.length) : undefined;
    if (base && families.get(base)?.type === "histogram") return base;
  }
  return undefined;
}

function assertExported(where: string, expr: string, families: Map<string, Family>): string[] {
  const refs = referencesIn(expr);
  assert.ok(refs.metrics.length > 0, `${where}: names a metric (${expr})`);
  const allLabels = new Set([...TARGET_LABELS, "le", ...[...families.values()].flatMap((f) => [...f.labels])]);
  const used: string[] = [];
  for (const series of refs.metrics) {
    const family = familyOf(series, families);
    assert.ok(family, `${where}: '${series}' is not a metric the service exports (${expr})`);
    used.push(family);
  }
  for (const label of [...refs.labels, ...refs.byLabels]) assert.ok(allLabels.has(label), `${where}: label '${label}' is not exported (${expr})`);
  return used;
}

const families = await exportedFamilies();

test("observability - the families checked are exactly src/metrics/definitions.ts's exportedMetricNames()", () => {
  assert.deepEqual([...families.keys()].sort(), exportedMetricNames());
});

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description?: string };
}

async function rules(): Promise<Rule[]> {
  const doc = parse(await readFile(file("observability/alerts.yaml"), "utf8")) as { groups: { name: string; rules: Rule[] }[] };
  assert.ok(doc.groups.length > 0);
  return doc.groups.flatMap((g) => g.rules);
}

test("observability - every alert rule is well formed and names only exported metrics and labels", async () => {
  const all = await rules();
  assert.equal(new Set(all.map((r) => r.alert)).size, all.length, "alert names are unique");
  for (const r of all) {
    assert.match(r.alert, /^OfaEntail[A-Z][A-Za-z0-9]+$/);
    assert.ok(["critical", "warning"].includes(r.labels.severity), `${r.alert}: severity`);
    assert.ok(r.annotations.summary.length > 0, `${r.alert}: summary`);
    if (r.for !== undefined) assert.match(r.for, /^\d+[smh]$/);
    assert.equal((r.expr.match(/\(/g) ?? []).length, (r.expr.match(/\)/g) ?? []).length, `${r.alert}: balanced parentheses`);
    assertExported(r.alert, r.expr, families);
    const byLabels = new Set(referencesIn(r.expr).byLabels);
    const text = `${r.annotations.summary} ${r.annotations.description ?? ""}`;
    for (const m of text.matchAll(/\$labels\.([a-z_]+)/g)) {
      assert.ok(byLabels.has(m[1]!), `${r.alert}: annotation uses $labels.${m[1]} but the expression does not keep it`);
    }
  }
});

test("observability - the rules cover no workers, lag growth, dead letters, p95 over SLO, redeliveries, worker restarts", async () => {
  const all = await rules();
  const covering = (pred: (r: Rule) => boolean, what: string) => assert.ok(all.some(pred), `an alert for ${what}`);
  covering((r) => /ofa_workers_ready/.test(r.expr) && r.labels.severity === "critical", "no workers ready");
  covering((r) => /deriv\(ofa_consumer_pending/.test(r.expr), "consumer lag growing");
  covering((r) => /ofa_dead_letters_total/.test(r.expr), "dead-letter rate");
  covering((r) => /histogram_quantile\(0\.95,.*ofa_request_duration_seconds_bucket/.test(r.expr), "p95 over the SLO");
  covering((r) => /ofa_redeliveries_total/.test(r.expr), "redelivery rate");
  covering((r) => /ofa_worker_restarts_total/.test(r.expr), "worker restarts");
});

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; refId: string; datasource?: { uid: string } }[];
  panels?: Panel[];
  gridPos: { x: number; y: number; w: number; h: number };
}

test("observability - the Grafana dashboard names only exported metrics, on the provisioned data source", async () => {
  const dash = JSON.parse(await readFile(file("observability/grafana/ofa-entail.json"), "utf8")) as { uid: string; title: string; panels: Panel[] };
  const provisioned = parse(await readFile(file("docker/grafana/provisioning/datasources/prometheus.yaml"), "utf8")) as {
    datasources: { uid: string; type: string }[];
  };
  const uid = provisioned.datasources[0]!.uid;
  assert.ok(dash.uid && dash.title);
  const panels = dash.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, "panel ids are unique");
  const used = new Set<string>();
  for (const p of panels.filter((x) => x.type !== "row")) {
    assert.ok(p.gridPos.w > 0 && p.gridPos.h > 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: fits the 24-column grid`);
    assert.equal(p.datasource?.uid, uid, `${p.title}: provisioned data source`);
    assert.ok(p.targets && p.targets.length > 0, `${p.title}: has queries`);
    for (const t of p.targets) for (const m of assertExported(p.title, t.expr, families)) used.add(m);
  }
  for (const core of ["ofa_request_duration_seconds", "ofa_consumer_pending", "ofa_workers_ready", "ofa_inference_seconds", "ofa_batch_size"]) {
    assert.ok(used.has(core), `the dashboard shows ${core}`);
  }
});

test("observability - the PromQL reference extractor finds metrics and labels, not functions or keywords", () => {
  const refs = referencesIn('histogram_quantile(0.95, sum by (le) (rate(ofa_x_bucket{code=~"a|b"}[5m]))) > 2 and on(lane) ofa_y > 1e-9');
  assert.deepEqual(refs.metrics, ["ofa_x_bucket", "ofa_y"]);
  assert.deepEqual(refs.labels, ["code"]);
  assert.deepEqual(refs.byLabels, ["le", "lane"]);
});
