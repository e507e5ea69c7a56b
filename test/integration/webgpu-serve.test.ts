/**
 * The whole service on onnxruntime's WebGPU provider (OFA_EXECUTION_PROVIDER=webgpu) over the host's Vulkan device:
 * lavapipe in CI, a GPU elsewhere. With the split tiny model (the image state stays on the GPU between its graphs)
 * and OFA_MAX_BATCH 4, single questions and a 6-item policy list (two runs, the image encoded in each) answer with
 * the CPU service's scores; /status names the adapter and where the nodes were placed. Without a usable Vulkan
 * adapter, start-up refuses once with the reason and the fix, like a missing CUDA provider.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { OfaClient, type ListVerdict, type OkVerdict, type Scores } from "@ofa-entail/client/source";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { jpeg } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

const SPLIT_MODEL = fileURLToPath(new URL("../../models/tiny-split", import.meta.url));
const HYPOTHESES = ["a dog on a sofa", "a red flag", "an empty street", "two people talking", "a weapon", "a cat asleep"];
const SCORE_TOLERANCE = 1e-5;

interface Answers {
  singles: OkVerdict[];
  list: ListVerdict;
  status: Record<string, unknown>;
}

async function answers(ns: NatsServer, provider: "cpu" | "webgpu"): Promise<Answers> {
  const service = await Service.start(ns.url, { OFA_MODEL_DIR: SPLIT_MODEL, OFA_EXECUTION_PROVIDER: provider, OFA_MAX_BATCH: "4", OFA_CACHE_TTL_MS: "0" });
  const nc = await connect({ servers: ns.url });
  const client = new OfaClient(nc);
  try {
    await service.waitReady(120_000); // the first webgpu session compiles its shaders (≈ 20 s on lavapipe, cold)
    const images = await Promise.all([jpeg(320, 240, 3), jpeg(200, 300, 4)]);
    const singles = await Promise.all(images.map((image, i) => client.classify({ image, text: HYPOTHESES[i]!, timeoutMs: 120_000 })));
    const list = await client.classifyMany({ image: images[0]!, hypotheses: HYPOTHESES, timeoutMs: 120_000 });
    return { singles, list, status: await service.status() };
  } finally {
    client.close();
    await nc.close();
    await service.stop();
  }
}

function assertSameScores(a: Scores, b: Scores, what: string): void {
  for (const label of ["yes", "no", "maybe"] as const) {
    const diff = Math.abs(a[label] - b[label]);
    assert.ok(diff <= SCORE_TOLERANCE, `${what}: ${label} differs by ${diff}`);
  }
}

test("webgpu serve - single questions and a policy list answer with the CPU service's labels and scores; /status names the adapter and the node placement", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const cpu = await answers(ns, "cpu");
  const gpu = await answers(ns, "webgpu");
  cpu.singles.forEach((v, i) => {
    assert.equal(gpu.singles[i]!.label, v.label);
    assertSameScores(gpu.singles[i]!.scores, v.scores, `single ${i}`);
  });
  assert.equal(gpu.list.results.length, HYPOTHESES.length);
  cpu.list.results.forEach((r, i) => {
    assert.equal(gpu.list.results[i]!.text, r.text);
    assert.equal(gpu.list.results[i]!.label, r.label);
    assertSameScores(gpu.list.results[i]!.scores, r.scores, `list item ${i}`);
  });
  const accelerator = gpu.status.accelerator as { provider: string; found: boolean; adapter?: { description: string; driver: string; vendor: string } };
  assert.equal(accelerator.provider, "webgpu");
  assert.equal(accelerator.found, true, JSON.stringify(accelerator));
  assert.ok(accelerator.adapter!.description.length > 0 && accelerator.adapter!.driver.length > 0);
  const [worker] = gpu.status.workers as Array<{ placement?: { provider: string; nodes: number; cpuNodes: number; cpuOps: Record<string, number> } }>;
  assert.equal(worker!.placement?.provider, "webgpu", JSON.stringify(worker));
  assert.ok(worker!.placement!.nodes > worker!.placement!.cpuNodes, "most nodes run on the GPU provider");
  t.diagnostic(`adapter: ${accelerator.adapter!.description} (${accelerator.adapter!.driver}); ${worker!.placement!.cpuNodes} of ${worker!.placement!.nodes} nodes on the CPU`);
  assert.equal((cpu.status.accelerator as { provider: string }).provider, "cpu");
});

test("webgpu serve - no usable Vulkan adapter: the reason and the fix logged once, /readyz 503 with it, the workers not restarted", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  // VK_DRIVER_FILES names the Vulkan drivers the loader may use: none here, so Dawn finds no adapter.
  const service = await Service.start(ns.url, { OFA_EXECUTION_PROVIDER: "webgpu", OFA_WORKERS: "2", OFA_RESTART_BACKOFF_MS: "20", VK_DRIVER_FILES: "/nonexistent/icd.json" });
  t.after(() => service.stop());
  await until(async () => (await service.status()).workers.every((w) => w.state === "failed"), { name: "both workers failed for good", timeoutMs: 90_000, intervalMs: 100 });
  const readyz = await service.get("/readyz");
  assert.equal(readyz.status, 503);
  const reasons = (JSON.parse(readyz.text) as { reasons: string[] }).reasons;
  assert.equal(reasons.length, 1, JSON.stringify(reasons));
  assert.match(reasons[0]!, /no Vulkan adapter could be opened \(.*Failed to get a WebGPU adapter/);
  assert.match(reasons[0]!, /apt-get install libvulkan1 mesa-vulkan-drivers/);
  assert.equal(service.lines.filter((l) => l.msg === "worker cannot start and will not be restarted").length, 1);
  assert.equal(service.lines.filter((l) => l.msg === "worker exited; restarting").length, 0);
  assert.equal(await service.metric("ofa_worker_restarts_total"), 0);
});
