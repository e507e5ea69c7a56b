/**
 * Runs, against a deployment's Prometheus, every query the alert rules and the dashboard rely on, and reports those
 * that return no series with a number (a rule that can never fire or a panel that stays empty), then the ofa-entail
 * alerts currently pending or firing. Exit status 1 when a query has no data.
 *
 *   node scripts/check-observability.ts http://prometheus:9090
 *   PROMETHEUS_BEARER_TOKEN=… node scripts/check-observability.ts https://prometheus.example
 */
import { operatorQueries } from "./observability-queries.ts";

const base = process.argv[2] ?? "";
if (base === "") {
  console.error("usage: check-observability.ts <prometheus base URL>");
  process.exit(2);
}
const token = process.env.PROMETHEUS_BEARER_TOKEN;
const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};

async function api<T>(path: string): Promise<T> {
  const res = await fetch(new URL(`api/v1/${path}`, base.endsWith("/") ? base : `${base}/`), { headers });
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== "success") throw new Error(`${path}: ${body.error ?? res.status}`);
  return body.data;
}

let empty = 0;
for (const q of await operatorQueries()) {
  const data = await api<{ resultType: string; result: unknown }>(`query?query=${encodeURIComponent(q.expr)}`);
  const samples = data.resultType === "vector" ? (data.result as { value: [number, string] }[]) : [{ value: data.result as [number, string] }];
  const numbers = samples.filter((s) => Number.isFinite(Number(s.value[1]))).length;
  if (numbers === 0) empty += 1;
  console.log(`${numbers === 0 ? "NO DATA" : "ok     "} ${String(numbers).padStart(3)} series  ${q.where}: ${q.expr.replace(/\s+/g, " ")}`);
}
const alerts = (await api<{ alerts: { labels: Record<string, string>; state: string }[] }>("alerts")).alerts.filter((a) => a.labels.alertname?.startsWith("OfaEntail"));
for (const a of alerts) console.log(`alert ${a.state}: ${a.labels.alertname} ${JSON.stringify(a.labels)}`);
console.log(`${empty} of the queries returned no data; ${alerts.length} ofa-entail alerts pending or firing`);
process.exit(empty === 0 ? 0 : 1);
