import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { connect, createInbox } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { Lane, STREAMS, consumerName, decodeAnyVerdict, verdictSubject, type AnyVerdict } from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { makeSlowModel } from "../harness/slow-model.ts";
import { jpeg, publishRaw } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

const HYPOTHESES = Array.from({ length: 16 }, (_, i) => `rule ${i}`);

test("fault - a worker killed with SIGKILL mid-list (some of its rows answered) leaves the whole request to redelivery, answered once", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const slow = makeSlowModel(100); // ≈ 250 ms per row: a 16-row list in batches of 2 runs 8 session runs, ≈ 4 s
  t.after(() => rmSync(slow, { recursive: true, force: true }));
  const service = await Service.start(ns.url, {
    OFA_MODEL_DIR: slow,
    OFA_MAX_BATCH: "2",
    OFA_ACK_WAIT_MS: "2000",
    OFA_RESTART_BACKOFF_MS: "200",
    OFA_CACHE_TTL_MS: "0",
  });
  t.after(() => service.stop());
  await service.waitReady(60_000);
  const nc = await connect({ servers: ns.url });
  t.after(() => nc.close());
  const jsm = await jetstreamManager(nc);
  const victim = (await service.status()).workers[0]!.pid;

  const inbox = createInbox();
  const replies: AnyVerdict[] = [];
  nc.subscribe(inbox, { callback: (_e, m) => void replies.push(decodeAnyVerdict(m.data)) });
  const image = (await jpeg(128, 128, 9)).toString("base64");
  await publishRaw(nc, "k9-list", JSON.stringify({ v: 1, hypotheses: HYPOTHESES, image: { data: image } }), inbox);

  await until(async () => (await service.metric("ofa_batch_size_count")) >= 1, { name: "a first batch of the list's rows ran", timeoutMs: 30_000 });
  assert.equal(replies.length, 0, "the list is only partly answered when the worker dies");
  process.kill(victim, "SIGKILL");

  await until(() => replies.length > 0, { name: "the list answered after redelivery", timeoutMs: 60_000 });
  // Settled: acked, nothing pending or held, so no second verdict can come.
  await until(async () => (await jsm.streams.info(STREAMS.requests)).state.messages === 0, { name: "request acked", timeoutMs: 10_000 });
  const consumer = await jsm.consumers.info(STREAMS.requests, consumerName(Lane.interactive));
  assert.equal(consumer.num_ack_pending + consumer.num_pending, 0);
  assert.equal(replies.length, 1, "one reply");
  const verdict = replies[0]!;
  assert.ok(verdict.ok && "results" in verdict, JSON.stringify(verdict));
  assert.deepEqual(verdict.results.map((r) => r.text), HYPOTHESES, "the whole list, in order");
  assert.ok(verdict.deliveries >= 2, "answered on a redelivery");
  const subject = verdictSubject("k9-list");
  const kept = await jsm.streams.info(STREAMS.verdicts, { subjects_filter: subject });
  assert.equal(kept.state.subjects?.[subject], 1, "one verdict in the verdict stream");
  const status = await service.status();
  assert.notEqual(status.workers[0]!.pid, victim, "a new worker process replaced the killed one");
});
