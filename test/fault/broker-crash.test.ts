import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, createInbox } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { STREAMS, decodeVerdictPayload, type Verdict } from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { countIds, envelope, jpeg, publishRaw, readVerdictStream } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

const N = 300;

test("fault - nats-server killed with SIGKILL under load and restarted on its store: the request stream drains to empty and every request is answered", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const service = await Service.start(ns.url, { OFA_WORKERS: "2", OFA_ACK_WAIT_MS: "3000", OFA_CACHE_TTL_MS: "0" });
  t.after(() => service.stop());
  await service.waitReady();
  const nc = await connect({ servers: ns.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  t.after(() => nc.close());

  // Every request is stored (PubAck) before the kill, so the crash can only hit acks and verdicts in flight.
  const inbox = createInbox();
  const replies = new Map<string, Verdict>();
  nc.subscribe(inbox, { callback: (_e, m) => void (m.data.length > 0 && replies.set(decodeVerdictPayload(m.data).id, decodeVerdictPayload(m.data))) });
  const payload = envelope(await jpeg(800, 600, 17), "under a broker crash");
  const ids = Array.from({ length: N }, (_, i) => `crash-${i}`);
  for (const id of ids) await publishRaw(nc, id, payload, inbox);
  await until(() => replies.size >= 20, { name: "load is flowing", timeoutMs: 30_000 });

  await ns.halt("SIGKILL");
  await ns.restart();
  await service.waitReady(30_000);
  const jsm = await jetstreamManager(nc);
  await until(async () => (await jsm.streams.info(STREAMS.requests)).state.messages === 0, { name: "the request stream drains to empty", timeoutMs: 120_000, intervalMs: 250 });
  // A reply is core NATS: the crash can drop one the worker sent just before (its request acked, so never sent
  // again); the verdict stream then has that answer. And without fsync on every write (nats-server 2.9), a SIGKILL can
  // lose a verdict-stream write of its last milliseconds (README: Durability of the broker), whose caller got the
  // reply. So every request must be answered in one of the two, and none twice in the stream.
  let verdicts: Verdict[] = [];
  await until(
    async () => {
      verdicts = await readVerdictStream(nc);
      const inStream = new Set(verdicts.map((v) => v.id));
      return ids.every((id) => replies.has(id) || inStream.has(id));
    },
    { name: "every request answered", timeoutMs: 30_000, intervalMs: 500 },
  );
  assert.ok([...replies.values(), ...verdicts].every((v) => v.ok), "every answer ok");
  const counts = countIds(verdicts.map((v) => v.id));
  assert.deepEqual(ids.filter((id) => (counts.get(id) ?? 0) > 1), [], "no request has two verdicts in the verdict stream");
  t.diagnostic(`stale requests removed after the crash: ${await service.metric("ofa_stale_requests_removed_total")}`);
});
