/**
 * infra/observability with Prometheus' own tool (Debian package `prometheus`): the alert rules load, every alert has
 * unit tests that make it fire with its exact labels and annotations and keep it silent otherwise
 * (infra/observability/alerts.test.yaml), and the compose stack's Prometheus config is valid with the rules it loads.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";
import { prometheusBinary } from "../harness/prometheus.ts";

const run = promisify(execFile);
const infra = (rel: string) => fileURLToPath(new URL(`../../infra/${rel}`, import.meta.url));
const RULES = infra("observability/alerts.yaml");
const RULE_TESTS = infra("observability/alerts.test.yaml");

async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(prometheusBinary("promtool"), args, { timeout: 60_000 });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    assert.fail(`promtool ${args.join(" ")} failed:\n${e.stdout ?? ""}${e.stderr ?? e.message}`);
  }
}

interface RuleTestFile {
  rule_files: string[];
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

test("promtool - the alert rules pass `promtool check rules`", async () => {
  const out = await promtool("check", "rules", RULES);
  assert.match(out, /SUCCESS: \d+ rules found/);
});

test("promtool - every alert has unit tests that make it fire and keep it silent, and they pass", async () => {
  const rules = parse(await readFile(RULES, "utf8")) as { groups: { rules: { alert: string }[] }[] };
  const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
  const spec = parse(await readFile(RULE_TESTS, "utf8")) as RuleTestFile;
  assert.deepEqual(spec.rule_files, ["alerts.yaml"]);
  const cases = spec.tests.flatMap((t) => t.alert_rule_test ?? []);
  for (const alert of alerts) {
    assert.ok(cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0), `${alert}: a case where it fires`);
    assert.ok(cases.some((c) => c.alertname === alert && c.exp_alerts.length === 0), `${alert}: a case where it stays silent`);
  }
  for (const c of cases) assert.ok(alerts.includes(c.alertname), `the rule tests name a real alert: ${c.alertname}`);
  const out = await promtool("test", "rules", RULE_TESTS);
  assert.match(out, /SUCCESS/);
});

test("promtool - the rule tests can fail: a loosened threshold is caught", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "ofa-promtool-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const loosened = (await readFile(RULES, "utf8")).replace("> 0.05", "> 0.5");
  assert.notEqual(loosened, await readFile(RULES, "utf8"));
  await writeFile(join(dir, "alerts.yaml"), loosened);
  await writeFile(join(dir, "alerts.test.yaml"), await readFile(RULE_TESTS, "utf8"));
  const result = await run(prometheusBinary("promtool"), ["test", "rules", join(dir, "alerts.test.yaml")], { timeout: 60_000 }).then(
    () => "passed",
    (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ""}${err.stderr ?? ""}`,
  );
  assert.match(result, /FAILED[\s\S]*OfaEntailDeadLetterRate/);
});

test("promtool - the compose Prometheus config passes `promtool check config` (rule path rewritten from the container's)", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "ofa-promtool-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = parse(await readFile(infra("docker/prometheus.yml"), "utf8")) as { rule_files: string[] };
  // compose mounts ../observability/alerts.yaml at this path (infra/docker/compose.yaml)
  assert.deepEqual(config.rule_files, ["/etc/prometheus/alerts.yaml"]);
  const compose = await readFile(infra("docker/compose.yaml"), "utf8");
  assert.match(compose, /\.\.\/observability\/alerts\.yaml:\/etc\/prometheus\/alerts\.yaml/);
  config.rule_files = [RULES];
  await writeFile(join(dir, "prometheus.yml"), stringify(config));
  const out = await promtool("check", "config", join(dir, "prometheus.yml"));
  assert.match(out, /SUCCESS: 1 rule files found/);
});
