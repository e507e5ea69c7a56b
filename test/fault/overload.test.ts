import { test } from "node:test";
import assert from "node:assert/strict";
import { ClassifyError } from "@ofa-entail/client/source";
import { ErrorCode, type Verdict } from "../../src/protocol/index.ts";
import { startStack } from "../harness/stack.ts";
import { jpeg } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

test("fault - overload: requests wait in the bounded stream, publishers past the bound are told, expired ones are answered without the model", async (t) => {
  const { service, nc, client } = await startStack(t, { OFA_MAX_QUEUED_REQUESTS: "40", OFA_CACHE_TTL_MS: "0", OFA_WORKER_SILENCE_MS: "120000" });
  const image = await jpeg(200, 200, 4);

  // The only worker is frozen: capacity is zero and everything waits in the stream.
  const pid = (await service.status()).workers[0]!.pid;
  process.kill(pid, "SIGSTOP");
  const keep = Array.from({ length: 30 }, (_, i) => client.send({ image, text: `waiting ${i}`, id: `keep-${i}`, timeoutMs: 60_000 }));
  const deadline = Date.now() + 1_500;
  const expiring = Array.from({ length: 10 }, (_, i) => client.send({ image, text: `hurry ${i}`, id: `late-${i}`, timeoutMs: 60_000, deadline }));
  const waiting = async () =>
    (await service.metric('ofa_consumer_pending{lane="interactive"}')) + (await service.metric('ofa_consumer_ack_pending{lane="interactive"}'));
  await until(async () => (await waiting()) === 40, { name: "/metrics shows the 40 waiting requests", timeoutMs: 15_000 });
  const refused = await client.send({ image, text: "one too many", id: "overflow", timeoutMs: 5_000 }).then(
    () => undefined,
    (err: unknown) => err,
  );
  assert.ok(refused instanceof ClassifyError && refused.code === ErrorCode.OVERLOADED, `the 41st publish is refused: ${String(refused)}`);

  await until(() => Date.now() > deadline, { name: "the short deadlines pass while nobody serves", timeoutMs: 5_000 });
  process.kill(pid, "SIGCONT");
  const kept: Verdict[] = await Promise.all(keep);
  const late: Verdict[] = await Promise.all(expiring);
  assert.ok(kept.every((v) => v.ok), "requests that waited within their deadline are answered");
  assert.ok(late.every((v) => !v.ok && v.error.code === ErrorCode.DEADLINE_EXCEEDED), "expired requests get OFA_ERR_DEADLINE_EXCEEDED");
  // A verdict is counted once the verdict stream acknowledged it, just after its caller got the reply.
  await until(async () => (await service.metric(`ofa_verdicts_total{outcome="error",code="${ErrorCode.DEADLINE_EXCEEDED}"}`)) === 10, { name: "/metrics counts the expired", timeoutMs: 5_000 });
  assert.equal(await service.metric("ofa_batch_size_sum"), 30, "the model ran only for the 30 live requests");
  assert.equal(await service.metric(`ofa_dead_letters_total{code="${ErrorCode.DEADLINE_EXCEEDED}"}`), 0, "expiry is not a dead letter");
});
