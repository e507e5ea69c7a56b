import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { OfaClient } from "@ofa-entail/client/source";
import { STREAMS, type Verdict } from "../../src/protocol/index.ts";
import { NatsCluster } from "../harness/nats-cluster.ts";
import { Service } from "../harness/service.ts";
import { countIds, jpeg, readVerdictStream } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

test("fault - 3-node JetStream cluster, streams with 3 replicas: the request stream's leader is killed under load and nothing is lost", async (t) => {
  const cluster = await NatsCluster.start();
  t.after(() => cluster.stop());
  await cluster.waitForMetaLeader();
  const service = await Service.start(cluster.natsUrl, { OFA_REPLICAS: "3", OFA_WORKERS: "2", OFA_ACK_WAIT_MS: "5000", OFA_CACHE_TTL_MS: "0" });
  t.after(() => service.stop());
  await service.waitReady(60_000);
  const leader = await cluster.waitForStreamLeader(STREAMS.requests);

  // The caller connects to the other two nodes only, so the kill tests the stream, not the caller's own socket.
  const nc = await connect({ servers: cluster.nodes.filter((n) => n.name !== leader).map((n) => n.url), maxReconnectAttempts: -1 });
  t.after(() => nc.close());
  const client = new OfaClient(nc);
  t.after(() => client.close());
  const image = await jpeg(320, 240, 13);
  const ids = Array.from({ length: 200 }, (_, i) => `leader-${i}`);
  const answered = new Map<string, Verdict>();
  const sends = ids.map(async (id, i) => {
    await new Promise((r) => setTimeout(r, i * 20)); // spread over ~4 s so the kill lands mid-stream
    answered.set(id, await client.send({ image, text: `cluster request ${i}`, id, timeoutMs: 120_000 }));
  });
  const settled = Promise.allSettled(sends);
  t.after(() => settled); // never leave sends running past the test
  await until(() => answered.size >= 20, { name: "load is flowing", timeoutMs: 30_000 });
  await cluster.kill(leader);
  const newLeader = await cluster.waitForStreamLeader(STREAMS.requests, 30_000);
  assert.notEqual(newLeader, leader);

  await Promise.all(sends);
  assert.equal(answered.size, 200);
  assert.ok([...answered.values()].every((v) => v.ok), "every request answered ok");
  // The killed node may also have led the meta group and the verdict stream: wait for both to have leaders again,
  // then read (a read can still time out while the new leader catches up, so it is retried within a bound).
  await cluster.waitForMetaLeader(30_000);
  await cluster.waitForStreamLeader(STREAMS.verdicts, 30_000);
  let stream: Verdict[] = [];
  await until(
    async () => {
      stream = await readVerdictStream(nc, 10_000).catch(() => []);
      return stream.length >= 200;
    },
    { name: "verdict stream readable with every verdict", timeoutMs: 60_000, intervalMs: 1_000 },
  );
  const counts = countIds(stream.map((v) => v.id));
  const lost = ids.filter((id) => !counts.has(id));
  const duplicated = ids.filter((id) => (counts.get(id) ?? 0) > 1);
  assert.deepEqual({ lost, duplicated }, { lost: [], duplicated: [] });
});
