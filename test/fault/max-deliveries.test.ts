import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { connect, createInbox } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { ErrorCode, Lane, STREAMS, consumerName, decodeVerdictPayload, type DeadLetter, type Verdict } from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { envelope, jpeg, publishRaw } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

const BIN = fileURLToPath(new URL("../../bin/ofa-entail.mjs", import.meta.url));

test("fault - a request whose holders all die lands in the dead letters with its payload and reason, and its caller is told", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const settings = { OFA_ACK_WAIT_MS: "1000", OFA_MAX_DELIVER: "2" };
  await promisify(execFile)(process.execPath, [BIN, "provision"], { env: { ...process.env, NATS_URL: ns.url, ...settings } });
  const nc = await connect({ servers: ns.url });
  t.after(() => nc.close());

  const inbox = createInbox();
  const replies: Verdict[] = [];
  nc.subscribe(inbox, { callback: (_e, m) => void replies.push(decodeVerdictPayload(m.data)) });
  const payload = envelope(await jpeg(), "a request nobody finishes");
  await publishRaw(nc, "doomed-1", payload, inbox);

  // Play a worker that dies on every delivery: take the request max_deliver times and never settle it.
  const consumer = await jetstream(nc).consumers.get(STREAMS.requests, consumerName(Lane.interactive));
  for (let delivery = 1; delivery <= 2; delivery++) {
    const m = await consumer.next({ expires: 5_000 });
    assert.equal(m?.info.deliveryCount, delivery);
  }
  // JetStream notices the exhausted request when it next tries to deliver, i.e. while someone pulls
  // (in production, the other workers): this pull gets nothing, and the advisory fires.
  assert.equal(await consumer.next({ expires: 3_000 }), null, "no third delivery");
  const jsm = await jetstreamManager(nc);
  await until(async () => (await jsm.streams.info(STREAMS.advisories)).state.messages === 1, { name: "MAX_DELIVERIES advisory captured", timeoutMs: 10_000 });

  // No supervisor was running when the advisory fired; the captured advisory is moved once one starts.
  const service = await Service.start(ns.url, settings);
  t.after(() => service.stop());
  await until(() => replies.length === 1, { name: "the caller hears about it", timeoutMs: 15_000 });
  const reply = replies[0]!;
  assert.equal(reply.ok, false);
  assert.equal(reply.ok === false && reply.error.code, ErrorCode.MAX_DELIVERIES);

  const dlq = await jetstream(nc).consumers.get(STREAMS.deadLetters);
  const record = (await dlq.next({ expires: 5_000 }))!.json<DeadLetter>();
  assert.equal(record.id, "doomed-1");
  assert.equal(record.code, ErrorCode.MAX_DELIVERIES);
  assert.equal(record.deliveries, 2);
  assert.match(record.reason, /2 deliveries/);
  assert.equal(Buffer.from(record.payload, "base64").toString(), payload, "the original payload is kept");
  await until(async () => (await jsm.streams.info(STREAMS.requests)).state.messages === 0, { name: "request removed from the work queue", timeoutMs: 5_000 });
  await until(async () => (await jsm.streams.info(STREAMS.advisories)).state.messages === 0, { name: "advisory consumed", timeoutMs: 5_000 });
});
