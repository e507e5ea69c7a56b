/**
 * Every PromQL query operators rely on: the signal expressions of the alert rules (infra/observability/alerts.yaml)
 * and the Grafana panel queries (infra/observability/grafana/ofa-entail.json). Used by the live scrape test and by
 * scripts/check-observability.ts against a deployment's Prometheus.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

export const ALERTS_FILE = fileURLToPath(new URL("../infra/observability/alerts.yaml", import.meta.url));
export const DASHBOARD_FILE = fileURLToPath(new URL("../infra/observability/grafana/ofa-entail.json", import.meta.url));

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface NamedQuery {
  /** e.g. `alert OfaEntailNoWorkersReady` or `panel "Batch size"` */
  where: string;
  expr: string;
}

/**
 * The operands of an expression's top-level comparisons and set operators (`a > 100 and b > 0` → a, b), with
 * `absent(x)` read as x and number literals dropped: each is a query that returns data while the service runs,
 * whether or not the alert fires.
 */
export function signalExpressions(expr: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '"' && expr[i - 1] !== "\\") quoted = !quoted;
    if (quoted) continue;
    if ("([{".includes(c)) depth++;
    if (")]}".includes(c)) depth--;
    if (depth !== 0) continue;
    const op = /^(?:\s(?:and|or|unless)\s|==|!=|>=|<=|>|<)/.exec(expr.slice(i))?.[0];
    if (!op) continue;
    parts.push(expr.slice(start, i));
    start = i + op.length;
    i += op.length - 1;
  }
  parts.push(expr.slice(start));
  return parts
    .map((p) => p.trim())
    .filter((p) => p !== "" && !/^[-+]?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(p))
    .map((p) => /^absent\((.*)\)$/s.exec(p)?.[1]?.trim() ?? p);
}

/** The alert rules; `forOverride` replaces every `for:` (the live test shortens them). */
export async function alertRules(forOverride?: string): Promise<{ text: string; rules: AlertRule[] }> {
  let text = await readFile(ALERTS_FILE, "utf8");
  if (forOverride !== undefined) text = text.replace(/^(\s+for:\s*)\S+$/gm, `$1${forOverride}`);
  const doc = parse(text) as { groups: { rules: AlertRule[] }[] };
  return { text, rules: doc.groups.flatMap((g) => g.rules) };
}

export async function panelQueries(): Promise<NamedQuery[]> {
  type Panel = { title: string; targets?: { expr: string }[]; panels?: Panel[] };
  const dash = JSON.parse(await readFile(DASHBOARD_FILE, "utf8")) as { panels: Panel[] };
  return dash.panels.flatMap((p) => [p, ...(p.panels ?? [])]).flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })));
}

/** Every alert signal expression and panel query, de-duplicated by expression. */
export async function operatorQueries(): Promise<NamedQuery[]> {
  const { rules } = await alertRules();
  const all = [...rules.flatMap((r) => signalExpressions(r.expr).map((expr) => ({ where: `alert ${r.alert}`, expr }))), ...(await panelQueries())];
  return [...new Map(all.map((q) => [q.expr, q])).values()];
}
