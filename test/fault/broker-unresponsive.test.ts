/**
 * Issue 24, item 7: a broker that stops answering is reported as such. nats-server 2.9.10 with a full disk stops
 * answering JetStream calls for good; SIGSTOP gives the same silence. /readyz then names the broker (not a slow
 * model), ofa_broker_responsive is 0, ofa_jetstream_api_timeouts_total counts the calls that got no answer, and the
 * log has one line for it however long it lasts — and one when the broker answers again.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { until } from "../harness/wait.ts";

const SILENT = "broker not answering: JetStream API calls time out (a full disk or a wedged nats-server?); requests wait until it answers";
const AGAIN = "broker answers JetStream API calls again";

test("fault - a broker that stops answering (SIGSTOP) is named by /readyz, ofa_broker_responsive and one log line", async (t) => {
  const ns = await NatsServer.start();
  t.after(async () => {
    ns.signal("SIGCONT");
    await ns.stop();
  });
  const service = await Service.start(ns.url);
  t.after(() => service.stop());
  await service.waitReady();
  assert.equal(await service.metric("ofa_broker_responsive"), 1);

  ns.signal("SIGSTOP");
  await until(async () => /broker not answering/.test((await service.get("/readyz")).text), { name: "/readyz names the broker", timeoutMs: 30_000 });
  const readyz = await service.get("/readyz");
  assert.equal(readyz.status, 503);
  assert.match(readyz.text, /broker not answering: \d+ JetStream API calls timed out since/);
  assert.equal(await service.metric("ofa_broker_responsive"), 0);
  // More polls time out while it stays silent: still one line.
  await until(async () => (await service.metric("ofa_jetstream_api_timeouts_total")) >= 4, { name: "four timed-out calls", timeoutMs: 30_000 });
  assert.equal(service.lines.filter((l) => l.msg === SILENT).length, 1, "one log line, not one per attempt");

  ns.signal("SIGCONT");
  await service.waitReady(30_000);
  assert.equal(await service.metric("ofa_broker_responsive"), 1);
  assert.equal(service.lines.filter((l) => l.msg === SILENT).length, 1);
  assert.equal(service.lines.filter((l) => l.msg === AGAIN).length, 1, "one line when it answers again");
});
