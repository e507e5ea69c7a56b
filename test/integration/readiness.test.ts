import { test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NatsServer } from "../harness/nats-server.ts";
import { Service, TINY_MODEL } from "../harness/service.ts";
import { until } from "../harness/wait.ts";

test("readiness - /readyz is 503 with a reason until a worker has loaded the model, then 200", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const modelDir = join(await mkdtemp(join(tmpdir(), "ofa-model-")), "late");
  t.after(() => rm(modelDir, { recursive: true, force: true }));
  // The model directory appears only after the service started (a volume mounted late).
  const service = await Service.start(ns.url, { OFA_MODEL_DIR: modelDir, OFA_RESTART_BACKOFF_MS: "200" });
  t.after(() => service.stop());
  await until(async () => (await service.get("/readyz")).text.includes("no worker has a model loaded"), { name: "503 for the model", timeoutMs: 15_000 });
  const before = await service.get("/readyz");
  assert.equal(before.status, 503);
  assert.equal((await service.get("/healthz")).status, 200, "alive while it retries");
  await cp(TINY_MODEL, modelDir, { recursive: true });
  await service.waitReady(30_000);
  assert.deepEqual(JSON.parse((await service.get("/readyz")).text), { status: "ready", reasons: [] });
});
