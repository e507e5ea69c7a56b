import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { OfaClient } from "@ofa-entail/client/source";
import { Lane, STREAMS, consumerName, type Verdict } from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { jpeg } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

test("fault - a worker killed with SIGKILL while holding requests is restarted, and what it held is answered after redelivery", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const service = await Service.start(ns.url, { OFA_WORKERS: "1", OFA_ACK_WAIT_MS: "2000", OFA_RESTART_BACKOFF_MS: "200", OFA_CACHE_TTL_MS: "0" });
  t.after(() => service.stop());
  await service.waitReady();
  const nc = await connect({ servers: ns.url });
  t.after(() => nc.close());
  const jsm = await jetstreamManager(nc);
  const victim = (await service.status()).workers[0]!.pid;

  // Freeze the worker: its open pull keeps taking deliveries into its socket, so it holds requests it cannot finish.
  process.kill(victim, "SIGSTOP");
  const client = new OfaClient(nc);
  const image = await jpeg(256, 256, 5);
  const pending = Array.from({ length: 40 }, (_, i) => client.send({ image, text: `held request ${i}`, id: `k9-${i}`, timeoutMs: 60_000 }));
  await until(async () => (await jsm.consumers.info(STREAMS.requests, consumerName(Lane.interactive))).num_ack_pending > 0, {
    name: "the frozen worker holds deliveries",
    timeoutMs: 10_000,
  });
  process.kill(victim, "SIGKILL");

  const verdicts: Verdict[] = await Promise.all(pending);
  client.close();
  assert.equal(verdicts.length, 40);
  assert.ok(verdicts.every((v) => v.ok), "every held request answered ok");
  assert.ok(verdicts.some((v) => v.ok && v.deliveries > 1), "some requests were answered on redelivery");
  const status = await service.status();
  assert.notEqual(status.workers[0]!.pid, victim, "a new worker process replaced the killed one");
  assert.equal(status.workers[0]!.restarts, 1);
  assert.equal(await service.metric("ofa_worker_restarts_total"), 1);
});
