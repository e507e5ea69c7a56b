import { test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Verdict } from "../../src/protocol/index.ts";
import { TINY_MODEL } from "../harness/service.ts";
import { startStack } from "../harness/stack.ts";
import { jpeg } from "../harness/requests.ts";

async function modelCopy(root: string, name: string, version: string): Promise<string> {
  const dir = join(root, name);
  await cp(TINY_MODEL, dir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
  await writeFile(join(dir, "manifest.json"), JSON.stringify({ ...manifest, version }));
  return dir;
}

test("rollout - a new model is loaded worker by worker without dropping the queue; a broken one is refused and the old keeps serving", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "ofa-rollout-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const v2 = await modelCopy(root, "v2", "tiny-v2");
  const broken = await modelCopy(root, "broken", "tiny-broken");
  await writeFile(join(broken, "model.onnx"), "this is not an onnx graph");
  // The default 30 s ack wait: a retiring worker lets its last pull run out and hands back what it still brings
  // (src/consumer/puller.ts), so no request waits a lease during a rollout (test/fault/replace-worker.test.ts).
  const { service, client } = await startStack(t, { OFA_WORKERS: "2", OFA_CACHE_TTL_MS: "0" });
  const image = await jpeg(256, 256, 6);

  // Keep a steady stream of requests going through both rollouts.
  const verdicts: Verdict[] = [];
  let sending = true;
  const traffic = (async () => {
    for (let i = 0; sending; i++) verdicts.push(await client.send({ image, text: `steady ${i}`, id: `roll-${i}`, timeoutMs: 30_000 }));
  })();
  const post = (modelDir: string) =>
    fetch(`${service.adminUrl}/model/reload`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ modelDir }) });

  const refused = await post(broken);
  assert.equal(refused.status, 409);
  assert.match(((await refused.json()) as { reason: string }).reason, /.+/);
  const original = JSON.parse(await readFile(join(TINY_MODEL, "manifest.json"), "utf8")).version as string;
  assert.equal(((await service.status()).model as { version: string }).version, original, "the old model still serves");
  assert.equal(((await service.status()).config as { modelDir: string }).modelDir, TINY_MODEL, "/status shows the config that serves");

  const accepted = await post(v2);
  assert.equal(accepted.status, 200);
  const status = await service.status();
  assert.ok(status.workers.every((w) => (w as unknown as { model: { version: string } }).model.version === "tiny-v2"), "every worker serves v2");
  assert.equal((status.config as { modelDir: string }).modelDir, v2, "/status shows the model directory the rollout brought, not the start-up one");
  const after = await client.classify({ image, text: "after the rollout", timeoutMs: 20_000 });
  assert.equal(after.model.version, "tiny-v2", "verdicts name the model version that answered");
  sending = false;
  await traffic;
  assert.ok(verdicts.length > 0 && verdicts.every((v) => v.ok), `${verdicts.length} requests during the rollouts, all answered ok`);
});
