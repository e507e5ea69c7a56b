/**
 * Issue 10, observation 2, second half: the dead-letter mover cannot be poisoned by what it moves. Requests whose
 * headers are hostile or malformed (a reply subject with a space, one aimed at the broker's API, a 5000-character
 * reply subject, a 5000-character id) run out of deliveries with a worker that dies on each of them; the mover then
 * answers each one (never publishing to a refused subject), dead-letters it, removes it from the work queue and
 * consumes its advisory — where it used to fail the same publish ten times and leave the request there for good.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { connect, headers as natsHeaders } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { ErrorCode, Header, Lane, STREAMS, consumerName, decodeVerdictPayload, requestSubject, verdictSubject, type DeadLetter } from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { BIN, Service } from "../harness/service.ts";
import { envelope, jpeg } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

test("fault - the dead-letter mover moves requests with hostile headers like any other: verdict, dead letter, gone from the queue", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const settings = { OFA_ACK_WAIT_MS: "1000", OFA_MAX_DELIVER: "2" };
  await promisify(execFile)(process.execPath, [BIN, "provision"], { env: { ...process.env, NATS_URL: ns.url, ...settings } });
  const nc = await connect({ servers: ns.url });
  t.after(() => nc.close());
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  // Something in the dead letters that a purge would take away.
  await js.publish("ofa.ve.dlq.OFA_ERR_SEED", JSON.stringify({ id: "seed" }));

  const payload = envelope(await jpeg(32, 24, 2), "a request nobody finishes");
  const cases = [
    { id: "mv-space", reply: "foo bar" },
    { id: "mv-purge", reply: `$JS.API.STREAM.PURGE.${STREAMS.deadLetters}` },
    { id: "mv-long-reply", reply: `_INBOX.${"r".repeat(5_000)}` },
    { id: "i".repeat(5_000), reply: "_INBOX.mover" },
  ];
  const seqs: number[] = [];
  for (const c of cases) {
    const h = natsHeaders();
    h.set(Header.ReplyTo, c.reply);
    seqs.push((await js.publish(requestSubject(Lane.interactive), payload, { msgID: c.id, headers: h })).seq);
  }

  // Play a worker that dies on every delivery: take each request max_deliver (2) times and never settle it.
  const consumer = await js.consumers.get(STREAMS.requests, consumerName(Lane.interactive));
  let taken = 0;
  await until(
    async () => {
      const m = await consumer.next({ expires: 2_000 });
      if (m) taken += 1;
      return taken >= 2 * cases.length;
    },
    { name: "every request delivered twice", timeoutMs: 30_000, intervalMs: 0 },
  );
  assert.equal(await consumer.next({ expires: 3_000 }), null, "no third delivery");
  await until(async () => (await jsm.streams.info(STREAMS.advisories)).state.messages === cases.length, { name: "a MAX_DELIVERIES advisory per request", timeoutMs: 10_000 });
  const dlqBefore = (await jsm.streams.info(STREAMS.deadLetters)).state;

  const service = await Service.start(ns.url, settings);
  t.after(() => service.stop());
  await until(async () => (await jsm.streams.info(STREAMS.advisories)).state.messages === 0, { name: "every advisory consumed", timeoutMs: 20_000 });
  await until(async () => (await jsm.streams.info(STREAMS.requests)).state.messages === 0, { name: "every request removed from the work queue", timeoutMs: 10_000 });

  const ids = cases.map((c, i) => (c.id.length > 128 ? `seq-${seqs[i]}` : c.id));
  for (const id of ids) {
    const stored = await jsm.streams.getMessage(STREAMS.verdicts, { last_by_subj: verdictSubject(id) });
    assert.ok(stored, `${id.slice(0, 20)}: a verdict`);
    const v = decodeVerdictPayload(stored.data);
    assert.equal(v.ok ? "ok" : v.error.code, ErrorCode.MAX_DELIVERIES);
  }
  const dlqAfter = (await jsm.streams.info(STREAMS.deadLetters)).state;
  assert.equal(dlqAfter.first_seq, dlqBefore.first_seq, "the dead letters were not purged");
  assert.equal(dlqAfter.messages, dlqBefore.messages + cases.length, "one dead letter per request");
  const dlq = await js.consumers.get(STREAMS.deadLetters);
  const records: DeadLetter[] = [];
  for await (const m of await dlq.fetch({ max_messages: dlqAfter.messages, expires: 5_000 })) records.push(m.json<DeadLetter>());
  assert.deepEqual(records.filter((r) => r.code === ErrorCode.MAX_DELIVERIES).map((r) => r.id).sort(), [...ids].sort());
  assert.ok(records.every((r) => Object.values(r.headers ?? {}).every((v) => v.length <= 1_100)), "oversized headers are bounded in the record");
});
