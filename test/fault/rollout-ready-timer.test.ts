/**
 * Issue 24, found 1: the worker a rollout started was SIGKILLed when the rollout's ready timeout (10 min) elapsed,
 * long after it became ready — the timer was cleared only by a one-shot message listener that the worker's first
 * heartbeat (sent before `ready`) used up. Here the timeout is 8 s (OFA_WORKER_READY_TIMEOUT_MS): the rolled-out
 * worker, heartbeating from its first moment, must still be the same process well after those 8 s.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TINY_MODEL } from "../harness/service.ts";
import { startStack } from "../harness/stack.ts";
import { jpeg } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

const READY_TIMEOUT_MS = 8_000;
/** Past the timer's deadline by this much before the worker is judged untouched. */
const MARGIN_MS = 3_000;

test("fault - a rolled-out worker that heartbeats before ready is not killed when the ready timeout elapses", async (t) => {
  const { service, client } = await startStack(t, {
    OFA_WORKERS: "1",
    OFA_CACHE_TTL_MS: "0",
    OFA_WORKER_READY_TIMEOUT_MS: String(READY_TIMEOUT_MS), // a worker heartbeats from its first moment (parent-watch.ts)
  });
  const before = (await service.status()).workers[0]!;
  const rolloutStartedAt = Date.now();
  const reload = await fetch(`${service.adminUrl}/model/reload`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ modelDir: TINY_MODEL }) });
  assert.equal(reload.status, 200, "the rollout succeeded");
  const rolled = (await service.status()).workers[0]!;
  assert.notEqual(rolled.pid, before.pid, "the rollout replaced the worker");

  const deadline = rolloutStartedAt + READY_TIMEOUT_MS + MARGIN_MS;
  await until(() => Date.now() > deadline, { name: "the rollout's ready timer would have fired", timeoutMs: READY_TIMEOUT_MS + MARGIN_MS + 5_000, intervalMs: 200 });
  const verdict = await client.classify({ image: await jpeg(64, 64, 3), text: "still serving", timeoutMs: 20_000 });
  assert.equal(verdict.worker, "w1");
  const now = (await service.status()).workers[0]!;
  assert.equal(now.pid, rolled.pid, "the rolled-out worker is the same process");
  assert.equal(now.restarts, 0, "no restart");
  assert.equal(now.state, "ready");
  assert.ok(!service.lines.some((l) => l.signal === "SIGKILL" || /not ready in time/.test(l.msg)), "nothing was killed");
});
