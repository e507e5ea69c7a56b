import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { OfaClient } from "@ofa-entail/client/source";
import { SHUTDOWN_MARGIN_MS } from "../../src/runtime/bounds.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { isAlive, killIfAlive } from "../harness/procs.ts";
import { Service } from "../harness/service.ts";
import { jpeg } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

const GRACE_MS = 2_000;
/** On top of the bound the code promises: a loaded 2-core machine schedules late, never early. */
const SLACK_MS = 4_000;

test("fault - a broker that stops answering (SIGSTOP) does not hold serve: SIGTERM exits within the grace + a fixed margin", async (t) => {
  const ns = await NatsServer.start();
  t.after(async () => {
    ns.signal("SIGCONT"); // a stopped server would only stop by SIGKILL
    await ns.stop();
  });
  const env = { OFA_ACK_WAIT_MS: "3000", OFA_CACHE_TTL_MS: "0" }; // a short lease: what the frozen broker kept is redelivered soon
  const service = await Service.start(ns.url, { ...env, OFA_WORKERS: "2", OFA_DRAIN_GRACE_MS: String(GRACE_MS) });
  t.after(() => service.stop());
  await service.waitReady();
  const workers = (await service.status()).workers.map((w) => w.pid);
  t.after(() => killIfAlive(workers));
  const nc = await connect({ servers: ns.url });
  t.after(() => nc.close());
  const client = new OfaClient(nc);
  t.after(() => client.close());
  const image = await jpeg(640, 480, 3);
  let answered = 0;
  const sends = Array.from({ length: 100 }, (_, i) => client.send({ image, text: `wedged ${i}`, id: `wedged-${i}`, timeoutMs: 60_000 }).then(() => answered++));
  const settled = Promise.allSettled(sends);
  await until(() => answered >= 5, { name: "load is flowing", timeoutMs: 30_000 });

  ns.signal("SIGSTOP"); // the socket stays open and nothing answers: the worst case for every await on the broker
  const signalledAt = Date.now();
  service.signal("SIGTERM");
  const bound = GRACE_MS + SHUTDOWN_MARGIN_MS + SLACK_MS;
  await until(() => service.child.exitCode !== null || service.child.signalCode !== null, { name: "serve exits", timeoutMs: bound });
  const exit = await service.waitExit();
  const tookMs = Date.now() - signalledAt;
  t.diagnostic(`serve exited ${tookMs} ms after SIGTERM with the broker stopped (grace ${GRACE_MS} ms)`);
  assert.ok(tookMs < bound, `serve exited ${tookMs} ms after SIGTERM (grace ${GRACE_MS} ms)`);
  assert.ok(exit.code !== null, `exited by itself, not by a signal (${JSON.stringify(exit)})`);
  assert.ok(service.lines.some((l) => l.msg === "draining"));
  await until(() => workers.every((pid) => !isAlive(pid)), { name: "no worker left behind", timeoutMs: SLACK_MS });

  // The broker recovers; what the first serve could not finish is answered by the next one.
  ns.signal("SIGCONT");
  const next = await Service.start(ns.url, env);
  t.after(() => next.stop());
  const outcomes = await settled;
  assert.deepEqual(outcomes.filter((o) => o.status === "rejected").map((o) => String((o as PromiseRejectedResult).reason)), [], "every request answered");
});
