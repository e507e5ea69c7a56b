import { test } from "node:test";
import assert from "node:assert/strict";
import { Lane } from "../../src/protocol/index.ts";
import { startStack } from "../harness/stack.ts";
import { jpeg } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

test("lanes - interactive requests are served before a bulk backlog, and the backlog is still served", async (t) => {
  const { service, nc, client } = await startStack(t, { OFA_MAX_BATCH: "4", OFA_CACHE_TTL_MS: "0", OFA_WORKER_SILENCE_MS: "120000" });
  const image = await jpeg(640, 480, 8);

  // Build a bulk backlog first, then add interactive requests behind it, while the worker is frozen.
  const pid = (await service.status()).workers[0]!.pid;
  process.kill(pid, "SIGSTOP");
  const finished: string[] = [];
  const send = (lane: Lane, i: number) =>
    client.send({ image, text: `${lane} ${i}`, id: `${lane}-${i}`, lane, timeoutMs: 60_000 }).then((v) => (finished.push(v.id), v));
  const bulk = Array.from({ length: 60 }, (_, i) => send(Lane.bulk, i));
  await until(async () => (await service.metric('ofa_consumer_pending{lane="bulk"}')) >= 50, { name: "bulk backlog queued", timeoutMs: 10_000 });
  const interactive = Array.from({ length: 12 }, (_, i) => send(Lane.interactive, i));
  await until(async () => (await service.metric('ofa_consumer_pending{lane="interactive"}')) + (await service.metric('ofa_consumer_ack_pending{lane="interactive"}')) >= 12, { name: "interactive queued", timeoutMs: 10_000 });
  process.kill(pid, "SIGCONT");

  const all = await Promise.all([...bulk, ...interactive]);
  assert.ok(all.every((v) => v.ok), "every request answered");
  const lastInteractive = Math.max(...finished.map((id, i) => (id.startsWith("interactive") ? i : -1)));
  const bulkBefore = finished.slice(0, lastInteractive).filter((id) => id.startsWith("bulk")).length;
  // Interactive requests overtake the 60-deep backlog: when the last of them is done, most bulk requests still wait
  // (bulk keeps its guaranteed quarter of each batch plus what was already held).
  assert.ok(bulkBefore < 20, `only ${bulkBefore} bulk requests finished before the last interactive one`);
});
