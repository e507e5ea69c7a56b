import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { OfaClient } from "@ofa-entail/client/source";
import type { Verdict } from "../../src/protocol/index.ts";
import { SHUTDOWN_MARGIN_MS } from "../../src/runtime/bounds.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { countIds, jpeg, readVerdictStream } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

const GRACE_MS = 10_000;

test("fault - SIGTERM under load: the service drains and exits within its grace period, and no request is lost", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const env = { OFA_WORKERS: "2", OFA_DRAIN_GRACE_MS: String(GRACE_MS), OFA_CACHE_TTL_MS: "0" };
  const first = await Service.start(ns.url, env);
  t.after(() => first.stop());
  await first.waitReady();
  const nc = await connect({ servers: ns.url });
  t.after(() => nc.close());
  const client = new OfaClient(nc);
  const image = await jpeg(640, 480, 9);
  const ids = Array.from({ length: 300 }, (_, i) => `drain-${i}`);
  const answers = new Map<string, Verdict>();
  const sends = ids.map((id, i) => client.send({ image, text: `request ${i}`, id, timeoutMs: 90_000 }).then((v) => answers.set(id, v)));

  await until(() => answers.size >= 20, { name: "some answered before the signal", timeoutMs: 30_000 });
  const signalledAt = Date.now();
  first.signal("SIGTERM");
  const exit = await first.waitExit();
  const tookMs = Date.now() - signalledAt;
  assert.equal(exit.code, 0, "clean exit");
  assert.ok(tookMs < GRACE_MS + SHUTDOWN_MARGIN_MS + 3_000, `exited in ${tookMs} ms`); // + 3 s: a loaded machine runs timers late
  assert.ok(first.lines.some((l) => l.msg === "draining"));

  // What was not served before the drain waits in the stream for the next instance.
  const second = await Service.start(ns.url, env);
  t.after(() => second.stop());
  await Promise.all(sends);
  client.close();
  assert.equal(answers.size, 300);
  assert.ok([...answers.values()].every((v) => v.ok));
  const counts = countIds((await readVerdictStream(nc)).map((v) => v.id));
  assert.ok(ids.every((id) => counts.get(id) === 1), "each request has exactly one verdict in the verdict stream");
});

test("fault - a second signal makes the service exit at once", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const service = await Service.start(ns.url, { OFA_DRAIN_GRACE_MS: "60000" });
  t.after(() => service.stop());
  await service.waitReady();
  service.signal("SIGTERM");
  await until(() => service.lines.some((l) => l.msg === "draining"), { name: "drain began", timeoutMs: 5_000 });
  service.signal("SIGTERM");
  const exit = await service.waitExit();
  assert.equal(exit.code, 130);
});
