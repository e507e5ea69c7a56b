/**
 * A real Prometheus scrapes a real `ofa-entail serve` (real nats-server, real onnxruntime with the tiny model) and
 * evaluates the shipped alert rules. After traffic with ok verdicts, error verdicts (dead-lettered) and a cache hit,
 * every expression the alert rules use and every Grafana panel query returns at least one series with a number in it;
 * then the only worker is killed (restart backoff set beyond the test's span) and OfaEntailNoWorkersReady and
 * OfaEntailWorkersMissing go firing with their labels and annotations, read through /api/v1/alerts.
 *
 * The rule file is the shipped one with every `for:` shortened to 2 s: the shipped durations (2-15 min) are the
 * operator's tolerance and are checked by the promtool unit tests (alerts.test.yaml); here the point is that the
 * service's real series feed the rules and that Prometheus moves a rule to firing. Range windows ([5m], [15m]) stay
 * as shipped: with 1 s scrapes they hold enough samples after a few seconds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { alertRules, operatorQueries, signalExpressions } from "../../scripts/observability-queries.ts";
import { Prometheus, type ActiveAlert, type Sample } from "../harness/prometheus.ts";
import { jpeg } from "../harness/requests.ts";
import { startStack } from "../harness/stack.ts";
import { until } from "../harness/wait.ts";

const SHORT_FOR = "2s";

test("prometheus live - the expression splitter keeps operands, drops thresholds, reads absent(x) as x", () => {
  assert.deepEqual(signalExpressions("sum(a) < 1 or absent(a)"), ["sum(a)", "a"]);
  assert.deepEqual(signalExpressions('max by (lane) (p{x=~"a|b"}) > 100\nand max by (lane) (deriv(p[10m])) > 0'), ['max by (lane) (p{x=~"a|b"})', "max by (lane) (deriv(p[10m]))"]);
  assert.deepEqual(signalExpressions("sum(rate(d[10m])) / clamp_min(sum(rate(v[10m])), 1e-9) > 0.05"), ["sum(rate(d[10m])) / clamp_min(sum(rate(v[10m])), 1e-9)"]);
});

const hasNumber = (samples: Sample[]) => samples.some((s) => Number.isFinite(Number(s.value[1])));

test("prometheus live - a real Prometheus scrapes serve: every rule expression and panel query has data, and an alert fires", async (t) => {
  // One worker; a crashed one comes back only after 10 min, so killing it leaves the instance without workers.
  const { service, client } = await startStack(t, { OFA_RESTART_BACKOFF_MS: "600000", OFA_CACHE_TTL_MS: "600000" });
  const target = new URL(service.adminUrl).host;
  const { text, rules } = await alertRules(SHORT_FOR);
  const prom = await Prometheus.start({ targets: [target], rules: text, interval: "1s" });
  t.after(() => prom.stop());
  const noWorkers = rules.find((r) => r.alert === "OfaEntailNoWorkersReady")!;
  const missing = rules.find((r) => r.alert === "OfaEntailWorkersMissing")!;
  assert.ok(noWorkers && missing, "the rules the test fires exist");

  // Traffic only once Prometheus holds a sample from before it, so rate() and increase() see every count move.
  await until(async () => hasNumber(await prom.query("ofa_workers_ready")), { name: "first scrape of serve", timeoutMs: 30_000, intervalMs: 200 });
  const image = await jpeg(64, 48, 3);
  for (let i = 0; i < 4; i++) await client.classify({ image: await jpeg(64, 48, 10 + i), text: `claim ${i}`, timeoutMs: 30_000 });
  await client.classify({ image, text: "the same claim twice", timeoutMs: 30_000 });
  await until(async () => (await service.metric("ofa_cache_misses_total")) >= 5 && (await service.metric("ofa_in_flight")) === 0, { name: "first requests settled", timeoutMs: 20_000 });
  await until(
    async () => (await client.classify({ image, text: "the same claim twice", timeoutMs: 30_000 })).cached === true,
    { name: "a cache hit", timeoutMs: 20_000, intervalMs: 200 },
  );
  for (let i = 0; i < 2; i++) {
    const refused = await client.classify({ image: Buffer.from(`not an image ${i}`), text: "broken", timeoutMs: 30_000 }).then(() => undefined, (e: { code?: string }) => e.code);
    assert.equal(refused, "OFA_ERR_IMAGE_FORMAT", "an error verdict");
  }

  const queries = await operatorQueries();
  assert.ok(queries.length >= 25, `found the queries (${queries.length})`);
  const empty = new Map(queries.map((q) => [q.expr, q.where]));
  await until(
    async () => {
      for (const expr of [...empty.keys()]) if (hasNumber(await prom.query(expr))) empty.delete(expr);
      return empty.size === 0;
    },
    { name: "every rule expression and panel query returns a number", timeoutMs: 40_000, intervalMs: 500 },
  ).catch((err: Error) => assert.fail(`${err.message}; still without data:\n${[...empty].map(([e, w]) => `  ${w}: ${e}`).join("\n")}`));
  // The operators' script (README "Operations") agrees, against the same Prometheus.
  const script = fileURLToPath(new URL("../../scripts/check-observability.ts", import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [script, prom.url], { timeout: 60_000 });
  assert.match(stdout, /^0 of the queries returned no data/m);
  const hits = await prom.query("sum(ofa_cache_hits_total)");
  assert.ok(Number(hits[0]!.value[1]) >= 1, "Prometheus saw the cache hit");

  // Any alert that was active while the first samples came in (absent() before the first scrape) has resolved.
  const active = async (name: string): Promise<ActiveAlert | undefined> => (await prom.alerts()).find((a) => a.labels.alertname === name);
  await until(async () => (await active(noWorkers.alert)) === undefined, { name: "no-workers alert inactive while serving", timeoutMs: 30_000, intervalMs: 200 });

  const worker = (await service.status()).workers[0]!;
  const killedAt = Date.now();
  process.kill(worker.pid, "SIGKILL");
  await until(async () => (await service.get("/readyz")).status === 503, { name: "/readyz 503 without workers", timeoutMs: 10_000 });
  // Read both from one /api/v1/alerts answer: a scrape lost on a loaded machine may briefly resolve one of them.
  const seen = new Set<string>();
  let fired: (ActiveAlert & { activeAt: string }) | undefined;
  let firedMissing: ActiveAlert | undefined;
  await until(
    async () => {
      const alerts = await prom.alerts();
      const a = alerts.find((x) => x.labels.alertname === noWorkers.alert) as (ActiveAlert & { activeAt: string }) | undefined;
      const m = alerts.find((x) => x.labels.alertname === missing.alert);
      if (a) seen.add(a.state);
      if (a?.state !== "firing" || m?.state !== "firing") return false;
      [fired, firedMissing] = [a, m];
      return true;
    },
    { name: "OfaEntailNoWorkersReady and OfaEntailWorkersMissing firing", timeoutMs: 30_000, intervalMs: 100 },
  );
  t.diagnostic(`states seen for ${noWorkers.alert}: ${[...seen].join(", ")}`);
  assert.ok(fired && firedMissing);
  assert.ok(Date.parse(fired.activeAt) >= killedAt - 2_000, `became active after the kill (${fired.activeAt})`);
  assert.equal(fired.labels.severity, "critical");
  assert.equal(fired.annotations.summary, noWorkers.annotations.summary);
  assert.equal(fired.annotations.description, noWorkers.annotations.description);
  assert.ok([0, 1].includes(Number(fired.value)), `0 ready workers (or 1 from absent() after a lost scrape): ${fired.value}`);
  assert.equal(firedMissing.labels.instance, target);
  assert.equal(firedMissing.annotations.summary, `${target} runs fewer workers than configured`);
  assert.match(firedMissing.annotations.description!, new RegExp(`^1 worker\\(s\\) of ${target.replace(/\./g, "\\.")} have not been ready`));
});
