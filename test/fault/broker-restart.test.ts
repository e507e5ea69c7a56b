import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { OfaClient } from "@ofa-entail/client/source";
import type { Verdict } from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { countIds, jpeg, readVerdictStream } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

test("fault - nats-server restarted under load: /readyz goes 503 and back to 200, the service resumes, nothing is lost", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const service = await Service.start(ns.url, { OFA_WORKERS: "2", OFA_ACK_WAIT_MS: "3000", OFA_CACHE_TTL_MS: "0" });
  t.after(() => service.stop());
  await service.waitReady();
  const nc = await connect({ servers: ns.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  t.after(() => nc.close());
  const client = new OfaClient(nc);
  t.after(() => client.close());
  const image = await jpeg(800, 600, 2);
  const ids = Array.from({ length: 300 }, (_, i) => `restart-${i}`);
  const answered = new Map<string, Verdict>();
  const sends = ids.map((id, i) => client.send({ image, text: `under load ${i}`, id, timeoutMs: 120_000 }).then((v) => answered.set(id, v)));
  await until(() => answered.size >= 10, { name: "load is flowing", timeoutMs: 30_000 });

  await ns.halt();
  await until(async () => (await service.get("/readyz")).status === 503, { name: "/readyz 503 while the bus is gone", timeoutMs: 10_000 });
  assert.match((await service.get("/readyz")).text, /NATS disconnected/);
  await ns.restart();
  await service.waitReady(30_000);

  await Promise.all(sends);
  assert.equal(answered.size, 300);
  assert.ok([...answered.values()].every((v) => v.ok), "every request answered ok");
  const counts = countIds((await readVerdictStream(nc)).map((v) => v.id));
  assert.ok(ids.every((id) => counts.get(id) === 1), "each request exactly once in the verdict stream");
});
