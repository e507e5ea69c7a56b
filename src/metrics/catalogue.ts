/**
 * The catalogue of every metric the admin port exports — name, type, labels, meaning, which process owns it and how
 * the admin port merges it across processes — read from the same constructors the service uses. docs/metrics.md is
 * generated from it (`npm run docs`) and the docs test keeps the two in step.
 */
import { Registry } from "prom-client";
import { collectProcessMetrics, createSupervisorMetrics, createWorkerMetrics } from "./definitions.ts";

export interface MetricEntry {
  readonly name: string;
  readonly type: string;
  readonly labels: readonly string[];
  readonly help: string;
  /** "worker", "supervisor" or "both" (each process has one; the admin port merges them). */
  readonly owner: "worker" | "supervisor" | "both";
  /** How the admin port merges the processes' values (prom-client aggregator). */
  readonly aggregator: string;
  /** Defined in src/metrics/definitions.ts (false: Node.js process metrics from prom-client's defaults). */
  readonly service: boolean;
}

interface Described {
  name: string;
  type: string;
  help: string;
  aggregator: string;
  labels: string[];
}

async function describe(registry: Registry): Promise<Map<string, Described>> {
  const labelNames = new Map(
    (registry.getMetricsAsArray() as unknown as { name: string; labelNames?: string[] }[]).map((m) => [m.name, m.labelNames ?? []]),
  );
  const out = new Map<string, Described>();
  for (const m of await registry.getMetricsAsJSON()) {
    const json = m as unknown as { name: string; type: string; help: string; aggregator: string };
    out.set(json.name, { name: json.name, type: json.type, help: json.help, aggregator: json.aggregator, labels: [...(labelNames.get(json.name) ?? [])] });
  }
  return out;
}

export async function metricCatalogue(): Promise<MetricEntry[]> {
  const worker = new Registry();
  const supervisor = new Registry();
  createWorkerMetrics(worker);
  createSupervisorMetrics(supervisor);
  const serviceNames = new Set([...worker.getMetricsAsArray(), ...supervisor.getMetricsAsArray()].map((m) => (m as unknown as { name: string }).name));
  collectProcessMetrics(worker);
  collectProcessMetrics(supervisor);
  const [w, s] = [await describe(worker), await describe(supervisor)];
  const names = [...new Set([...w.keys(), ...s.keys()])];
  const entries = names.map((name): MetricEntry => {
    const d = (w.get(name) ?? s.get(name))!;
    const owner = w.has(name) && s.has(name) ? "both" : w.has(name) ? "worker" : "supervisor";
    return { name, type: d.type, labels: d.labels, help: d.help, owner, aggregator: d.aggregator, service: serviceNames.has(name) };
  });
  return entries.sort((a, b) => Number(b.service) - Number(a.service) || a.name.localeCompare(b.name));
}
