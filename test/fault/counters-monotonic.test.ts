/**
 * Issue 24, found 6: counters lived in the workers and died with them (2 workers, 30 verdicts, one SIGKILLed and
 * restarted: ofa_verdicts_total 30 → 15); Prometheus reads such a fall as a reset. Now the supervisor carries a gone
 * worker's last counts (src/metrics/carry.ts): across a SIGKILL + restart and a rollout, no counter or histogram
 * series of /metrics falls below what an earlier scrape showed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TINY_MODEL, type Service } from "../harness/service.ts";
import { startStack } from "../harness/stack.ts";
import { jpeg } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

/** Every counter and histogram sample of a /metrics scrape (series text → value). */
async function monotonicSamples(service: Service): Promise<Map<string, number>> {
  const body = (await service.get("/metrics")).text;
  const monotonic = new Set<string>();
  const out = new Map<string, number>();
  for (const line of body.split("\n")) {
    const type = /^# TYPE (\S+) (counter|histogram)$/.exec(line);
    if (type) monotonic.add(type[1]!);
    if (line.startsWith("#") || line.trim() === "") continue;
    const at = line.lastIndexOf(" ");
    const series = line.slice(0, at);
    const family = series.replace(/\{.*$/, "").replace(/_(bucket|sum|count)$/, "");
    if (monotonic.has(family) || monotonic.has(series.replace(/\{.*$/, ""))) out.set(series, Number(line.slice(at + 1)));
  }
  return out;
}

function assertNoFall(before: Map<string, number>, after: Map<string, number>, what: string): void {
  const fell = [...before].filter(([series, value]) => (after.get(series) ?? 0) < value).map(([s, v]) => `${s}: ${v} → ${after.get(s) ?? "gone"}`);
  assert.deepEqual(fell, [], `no counter fell across ${what}`);
}

test("fault - counters never go backwards when a worker is killed and restarted, or replaced by a rollout", async (t) => {
  const { service, client } = await startStack(t, { OFA_WORKERS: "2", OFA_CACHE_TTL_MS: "0", OFA_RESTART_BACKOFF_MS: "200" }, 60_000);
  const image = await jpeg(128, 128, 4);
  const answer = (tag: string) => Promise.all(Array.from({ length: 30 }, (_, i) => client.send({ image, text: `${tag} ${i}`, id: `${tag}-${i}`, timeoutMs: 60_000 })));

  assert.ok((await answer("mono-a")).every((v) => v.ok));
  const first = await monotonicSamples(service);
  const verdicts = 'ofa_verdicts_total{outcome="ok",code="none"}';
  assert.equal(first.get(verdicts), 30, "30 verdicts counted");
  const workers = (await service.status()).workers;
  assert.ok(workers.every((w) => w.pid), "two workers");

  const victim = workers[0]!.pid;
  process.kill(victim, "SIGKILL");
  await until(async () => (await service.status()).workers.every((w) => w.state === "ready" && w.pid !== victim), { name: "the killed worker restarted", timeoutMs: 60_000 });
  const second = await monotonicSamples(service);
  assertNoFall(first, second, "a SIGKILL and restart");
  assert.equal(await service.metric("ofa_worker_restarts_total"), 1);

  assert.ok((await answer("mono-b")).every((v) => v.ok));
  const third = await monotonicSamples(service);
  assert.equal(third.get(verdicts), 60, "60 verdicts counted: none lost with the killed worker (it was scraped first)");
  const reload = await fetch(`${service.adminUrl}/model/reload`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ modelDir: TINY_MODEL }) });
  assert.equal(reload.status, 200);
  const fourth = await monotonicSamples(service);
  assertNoFall(third, fourth, "a rollout");
  assert.equal(fourth.get(verdicts), 60, "the retired workers' verdicts still counted");
});
