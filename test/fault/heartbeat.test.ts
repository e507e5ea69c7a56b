import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { OfaClient } from "../../src/client/index.ts";
import { Lane, STREAMS, consumerName, type Verdict } from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { makeSlowModel } from "../harness/slow-model.ts";
import { countIds, jpeg, readVerdictStream } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

const ACK_WAIT_MS = 1_000;

test("fault - a batch running longer than the ack wait keeps its lease while heartbeats flow, and is redelivered once they stop", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const slow = makeSlowModel(400); // ≈ 1 s per request on one core: a batch of 4 runs several ack waits
  t.after(() => rmSync(slow, { recursive: true, force: true }));
  const service = await Service.start(ns.url, {
    OFA_MODEL_DIR: slow,
    OFA_ACK_WAIT_MS: String(ACK_WAIT_MS),
    OFA_MAX_BATCH: "4",
    OFA_MAX_BATCH_DELAY_MS: "200",
    OFA_CACHE_TTL_MS: "0",
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
  assert.ok(longest > 2 * ACK_WAIT_MS, `the batch ran ${longest} ms, longer than the ack wait`);
  assert.equal(await service.metric("ofa_redeliveries_total"), 0, "no redelivery while heartbeats flowed");

  // Now freeze the worker while it holds requests: heartbeats stop, and JetStream takes the requests back.
  const jsm = await jetstreamManager(nc);
  const pid = (await service.status()).workers[0]!.pid;
  const second = [4, 5].map((i) => client.send({ image, text: `frozen ${i}`, id: `hb-${i}`, timeoutMs: 90_000 }));
  await until(async () => (await jsm.consumers.info(STREAMS.requests, consumerName(Lane.interactive))).num_ack_pending === 2, { name: "worker holds both", timeoutMs: 10_000 });
  process.kill(pid, "SIGSTOP");
  await until(async () => (await jsm.consumers.info(STREAMS.requests, consumerName(Lane.interactive))).num_redelivered > 0, { name: "JetStream redelivers once heartbeats stop", timeoutMs: 4 * ACK_WAIT_MS + 5_000 });
  process.kill(pid, "SIGCONT");
  const answers = await Promise.all(second);
  assert.ok(answers.every((v) => v.ok));
  await until(async () => (await service.metric("ofa_redeliveries_total")) > 0, { name: "the worker saw the redelivery", timeoutMs: 30_000 });
  const counts = countIds((await readVerdictStream(nc)).map((v) => v.id));
  for (const id of ["hb-4", "hb-5"]) assert.equal(counts.get(id), 1, `${id}: one verdict in the stream despite two deliveries`);
});
