/**
 * Issue 24, item 8: after a broker restart /readyz goes back to 200 once and stays there — no 503/200 flapping while
 * the broker's JetStream recovers (seen twice within 5 s). Readiness is sampled every 50 ms from the restart on.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { OfaClient } from "@ofa-entail/client/source";
import { NatsServer } from "../harness/nats-server.ts";
import { jpeg } from "../harness/requests.ts";
import { Service } from "../harness/service.ts";
import { until } from "../harness/wait.ts";

const WATCH_AFTER_READY_MS = 6_000;

test("fault - /readyz after a broker restart: back to 200 once, then no 503 while JetStream settles", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const service = await Service.start(ns.url, { OFA_WORKERS: "2", OFA_ACK_WAIT_MS: "3000", OFA_CACHE_TTL_MS: "0" });
  t.after(() => service.stop());
  await service.waitReady();
  // Requests in the store when the broker restarts: it recovers them before JetStream answers again.
  const nc = await connect({ servers: ns.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  t.after(() => nc.close());
  const client = new OfaClient(nc);
  t.after(() => client.close());
  const image = await jpeg(800, 600, 2);
  let answered = 0;
  const sends = Array.from({ length: 300 }, (_, i) => client.send({ image, text: `flap ${i}`, id: `flap-${i}`, timeoutMs: 120_000 }).then(() => answered++));
  await until(() => answered >= 10, { name: "load is flowing", timeoutMs: 30_000 });

  {
    await ns.halt();
    await until(async () => (await service.get("/readyz")).status === 503, { name: "/readyz 503 while the broker is gone", timeoutMs: 15_000 });
    await ns.restart();
    const samples: Array<{ at: number; status: number; text: string }> = [];
    const start = Date.now();
    let firstReady = 0;
    while (firstReady === 0 ? Date.now() - start < 30_000 : Date.now() - firstReady < WATCH_AFTER_READY_MS) {
      const r = await service.get("/readyz");
      samples.push({ at: Date.now() - start, status: r.status, text: r.text });
      if (r.status === 200 && firstReady === 0) firstReady = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(firstReady > 0, "ready again after the restart");
    const after = samples.filter((s) => s.at >= firstReady - start);
    const relapses = after.filter((s) => s.status !== 200);
    t.diagnostic(`ready ${firstReady - start} ms after the restart; ${relapses.length} of ${after.length} later samples not ready`);
    assert.deepEqual(relapses.map((s) => `${s.at} ms: ${s.text}`), [], "no 503 after the first 200");
  }
  await Promise.all(sends);
});
