import { test } from "node:test";
import assert from "node:assert/strict";
import { isAlive, killIfAlive } from "../harness/procs.ts";
import { startStack } from "../harness/stack.ts";
import { jpeg } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

/** Reported after this silence, replaced after three times it (src/supervisor/silence.ts): a 4 s window to look. */
const SILENCE_MS = 2_000;

test("fault - a frozen worker (SIGSTOP) is reported by /readyz, /status and /metrics, then replaced, and the service answers again", async (t) => {
  const { service, client } = await startStack(t, { OFA_WORKER_SILENCE_MS: String(SILENCE_MS), OFA_RESTART_BACKOFF_MS: "200", OFA_CACHE_TTL_MS: "0" });
  const frozen = (await service.status()).workers[0]!.pid;
  t.after(() => killIfAlive([frozen]));
  process.kill(frozen, "SIGSTOP");

  type Worker = { pid: number; state: string; restarts: number; responsive: boolean; silentForMs: number };
  const worker = async () => (await service.status()).workers[0] as unknown as Worker;
  await until(async () => (await worker()).responsive === false, { name: "/status reports the worker unresponsive", timeoutMs: 15_000 });
  // The worker is replaced 2 × SILENCE_MS after it was first reported: these three reads fit well inside that.
  const readyz = await service.get("/readyz");
  assert.equal(readyz.status, 503, "/readyz is 503 while no worker is responsive");
  assert.match(readyz.text, /no worker responsive/);
  assert.equal(await service.metric("ofa_workers_unresponsive"), 1);

  await until(async () => (await worker()).pid !== frozen, { name: "the silent worker is replaced", timeoutMs: 30_000 });
  await until(() => !isAlive(frozen), { name: "the frozen process is gone", timeoutMs: 10_000 });
  await service.waitReady(60_000);
  const now = await worker();
  assert.equal(now.responsive, true);
  assert.equal(now.restarts, 1);
  assert.equal(await service.metric("ofa_workers_unresponsive"), 0);
  const verdict = await client.classify({ image: await jpeg(64, 64, 1), text: "after the replacement", timeoutMs: 30_000 });
  assert.ok(verdict.ok);
  assert.ok(service.lines.some((l) => l.msg === "worker stayed silent; killing and replacing it (its requests will be redelivered)"));
});
