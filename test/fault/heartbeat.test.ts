import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import { OfaClient } from "@ofa-entail/client/source";
import { Lane, STREAMS, consumerName, type Verdict } from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { makeSlowModel } from "../harness/slow-model.ts";
import { countIds, jpeg, readVerdictStream } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";
import { killIfAlive } from "../harness/procs.ts";

const ACK_WAIT_MS = 1_000;

test("fault - a batch running longer than the ack wait keeps its lease while heartbeats flow, and is redelivered once they stop", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  // ≈ 1 s per request on one idle core of these machines (≈ 3 s with the other core busy): a batch of 4 runs several
  // ack waits even on a machine twice as fast (400 steps proved too few once the machine was idle).
  const slow = makeSlowModel(1_000);
  t.after(() => rmSync(slow, { recursive: true, force: true }));
  const service = await Service.start(ns.url, {
    OFA_MODEL_DIR: slow,
    OFA_ACK_WAIT_MS: String(ACK_WAIT_MS),
    OFA_MAX_BATCH: "4",
    OFA_MAX_BATCH_DELAY_MS: "200",
    OFA_CACHE_TTL_MS: "0",
    OFA_MAX_DELIVER: "10", // the frozen requests may be delivered several times before the worker answers them
    OFA_WORKER_SILENCE_MS: "120000", // the freeze is the test, not a worker to replace
  });
  t.after(() => service.stop());
  await service.waitReady(60_000);
  const nc = await connect({ servers: ns.url });
  t.after(() => nc.close());
  const client = new OfaClient(nc);
  t.after(() => client.close());
  const image = await jpeg(128, 128, 1);

  const first: Verdict[] = await Promise.all([0, 1, 2, 3].map((i) => client.send({ image, text: `long batch ${i}`, id: `hb-${i}`, timeoutMs: 60_000 })));
  assert.ok(first.every((v) => v.ok && v.deliveries === 1), "answered on the first delivery");
  const longest = Math.max(...first.map((v) => (v.ok ? v.timings.inferenceMs : 0)));
  t.diagnostic(`the first batch ran ${longest} ms`);
  assert.ok(longest > 2 * ACK_WAIT_MS, `the batch ran ${longest} ms, longer than the ack wait`);
  assert.equal(await service.metric("ofa_redeliveries_total"), 0, "no redelivery while heartbeats flowed");

  // Now freeze the worker while it holds requests: heartbeats stop, and JetStream takes the requests back. It
  // redelivers only into a pending pull request, and the frozen worker makes none: a second client (a "rescuer")
  // holds one open, so the redelivery is bound to reach it (after at most one more landing in the frozen worker's
  // last pull, which expires within seconds).
  const jsm = await jetstreamManager(nc);
  const rescuer = await jetstream(nc).consumers.get(STREAMS.requests, consumerName(Lane.interactive));
  const pid = (await service.status()).workers[0]!.pid;
  t.after(() => killIfAlive([pid]));
  const pending: Array<Promise<Verdict>> = [];
  const ids: string[] = [];
  const rescued: JsMsg[] = [];
  for (let attempt = 1; attempt <= 3 && rescued.length === 0; attempt++) {
    const round = [0, 1].map((i) => `hb-frozen-${attempt}-${i}`);
    ids.push(...round);
    pending.push(...round.map((id) => client.send({ image, text: id, id, timeoutMs: 90_000 })));
    await until(async () => (await jsm.consumers.info(STREAMS.requests, consumerName(Lane.interactive))).num_ack_pending === 2, { name: "worker holds both", timeoutMs: 20_000 });
    process.kill(pid, "SIGSTOP");
    // Normally within a few ack waits; nothing arrives only if the worker finished both just before it froze,
    // and then the round is repeated.
    const fetched = await rescuer.fetch({ max_messages: 2, expires: 15 * ACK_WAIT_MS });
    for await (const m of fetched) rescued.push(m);
    rescued.forEach((m) => m.nak()); // hand them back at once: the worker answers them once it runs again
    process.kill(pid, "SIGCONT");
  }
  assert.ok(rescued.length > 0, "JetStream redelivered what the frozen worker held");
  assert.ok(rescued.every((m) => m.info.deliveryCount >= 2), `redeliveries: ${rescued.map((m) => m.info.deliveryCount).join(", ")}`);
  const answers = await Promise.all(pending);
  assert.ok(answers.every((v) => v.ok));
  const counts = countIds((await readVerdictStream(nc)).map((v) => v.id));
  for (const id of ids) assert.equal(counts.get(id), 1, `${id}: one verdict in the stream despite two deliveries`);
});
