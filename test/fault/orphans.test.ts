import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { OfaClient } from "@ofa-entail/client/source";
import type { Verdict } from "../../src/protocol/index.ts";
import { WORKER_EXIT_MARGIN_MS } from "../../src/runtime/bounds.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { isAlive, killIfAlive } from "../harness/procs.ts";
import { Service } from "../harness/service.ts";
import { countIds, jpeg, readVerdictStream } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

const GRACE_MS = 3_000;
/** On top of the bound the code promises: a loaded 2-core machine schedules late, never early. */
const SLACK_MS = 10_000;

test("fault - serve killed with SIGKILL under load: its workers exit within the grace, a new serve runs exactly its N workers, every request answered once", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const env = { OFA_WORKERS: "2", OFA_DRAIN_GRACE_MS: String(GRACE_MS), OFA_ACK_WAIT_MS: "3000", OFA_CACHE_TTL_MS: "0" };
  const first = await Service.start(ns.url, env);
  t.after(() => first.stop());
  await first.waitReady();
  const pids = (await first.status()).workers.map((w) => w.pid);
  assert.equal(pids.length, 2);
  t.after(() => killIfAlive(pids));
  const nc = await connect({ servers: ns.url });
  t.after(() => nc.close());
  const client = new OfaClient(nc);
  t.after(() => client.close());
  const image = await jpeg(640, 480, 21);
  const ids = Array.from({ length: 200 }, (_, i) => `orphan-${i}`);
  const answers = new Map<string, Verdict>();
  const sends = ids.map((id, i) => client.send({ image, text: `request ${i}`, id, timeoutMs: 120_000 }).then((v) => answers.set(id, v)));
  await until(() => answers.size >= 10, { name: "load is flowing", timeoutMs: 30_000 });

  first.signal("SIGKILL"); // nothing in serve runs: its workers are on their own
  await first.waitExit();
  await until(() => pids.every((pid) => !isAlive(pid)), { name: "the orphaned workers exit by themselves", timeoutMs: GRACE_MS + WORKER_EXIT_MARGIN_MS + SLACK_MS });
  await until(() => first.lines.filter((l) => l.msg === "supervisor gone: draining and exiting").length === 2, { name: "both workers logged that their supervisor went", timeoutMs: 5_000 });

  const second = await Service.start(ns.url, env);
  t.after(() => second.stop());
  await second.waitReady();
  await Promise.all(sends);
  assert.equal(answers.size, 200);
  assert.ok([...answers.values()].every((v) => v.ok), "every request answered ok");
  const counts = countIds((await readVerdictStream(nc)).map((v) => v.id));
  assert.deepEqual(ids.filter((id) => counts.get(id) !== 1), [], "each request exactly once in the verdict stream");
  const workers = (await ns.connectionNames()).filter((n) => n.startsWith("ofa-entail-worker-"));
  assert.deepEqual(workers.sort(), ["ofa-entail-worker-1", "ofa-entail-worker-2"], "exactly the new serve's two workers are connected");
});

test("fault - the embedded nats-server does not outlive serve killed with SIGKILL", async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), "ofa-embedded-"));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const service = await Service.start(`nats://127.0.0.1:${port}`, { OFA_EMBEDDED: "true", OFA_DATA_DIR: dataDir, OFA_DRAIN_GRACE_MS: String(GRACE_MS) });
  t.after(() => service.stop());
  await service.waitReady(60_000);
  const broker = Number(service.lines.find((l) => l.msg.startsWith("no NATS server answered"))?.brokerPid);
  assert.ok(broker > 0 && isAlive(broker), "serve started an embedded nats-server");
  const workers = (await service.status()).workers.map((w) => w.pid);
  t.after(() => killIfAlive([broker, ...workers]));

  service.signal("SIGKILL");
  await service.waitExit();
  await until(() => !isAlive(broker), { name: "the embedded nats-server exits", timeoutMs: SLACK_MS });
  await until(() => workers.every((pid) => !isAlive(pid)), { name: "the workers exit", timeoutMs: GRACE_MS + WORKER_EXIT_MARGIN_MS + SLACK_MS });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
