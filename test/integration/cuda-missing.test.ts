/**
 * OFA_EXECUTION_PROVIDER=cuda on this CPU-only onnxruntime-node build (the CUDA provider's libraries are genuinely
 * missing here): one clear refusal instead of a crash loop. The reason and the install hint are logged once,
 * /readyz is 503 with that reason, the worker is not restarted (ofa_worker_restarts_total stays 0), /healthz stays
 * 200 (restarting the service would not help either), and ofa_workers_failed says so.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import ort from "onnxruntime-node";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NatsServer } from "../harness/nats-server.ts";
import { Service, TINY_MODEL } from "../harness/service.ts";
import { until } from "../harness/wait.ts";
import { Model } from "../../src/model/index.ts";
import { assertExecutionProvider, onnxruntimeBinaryDir, providerLoadFailure, ProviderUnavailableError } from "../../src/model/providers.ts";

const cudaInstalled = existsSync(join(onnxruntimeBinaryDir(), "libonnxruntime_providers_shared.so"));
const skip = cudaInstalled ? "this onnxruntime-node has the CUDA provider" : false;

test("cuda missing - Model.open refuses with a typed, permanent error naming the missing library and the fix", { skip }, async () => {
  const err = await Model.open({ modelDir: TINY_MODEL, executionProvider: "cuda", precision: "fp32", intraOpThreads: 1, limits: { maxImagePixels: 1e6 }, resize: "sharp" }).then(
    () => assert.fail("opened a cuda session without the CUDA provider"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ProviderUnavailableError);
  assert.equal(err.code, "EXECUTION_PROVIDER_UNAVAILABLE");
  assert.equal(err.permanent, true);
  assert.match(err.message, /libonnxruntime_providers_shared\.so/);
  assert.match(err.message, /ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci/);
  assert.doesNotThrow(() => assertExecutionProvider("cpu"));
});

test("cuda missing - the loader's own error (when the preflight is bypassed) is recognised as the same refusal", { skip }, async () => {
  const message = await ort.InferenceSession.create(join(TINY_MODEL, "model.onnx"), { executionProviders: ["cuda"] }).then(
    () => assert.fail("onnxruntime created a cuda session"),
    (e: Error) => e.message,
  );
  const typed = providerLoadFailure("cuda", message);
  assert.ok(typed instanceof ProviderUnavailableError, `not recognised: ${message}`);
  assert.equal(providerLoadFailure("cpu", message), undefined);
  assert.equal(providerLoadFailure("cuda", "model file is corrupt"), undefined);
});

test("cuda missing - the preflight passes where the provider's libraries are, and a host missing cuDNN is refused too", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "ofa-ort-bin-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "libonnxruntime_providers_shared.so"), "");
  assert.throws(() => assertExecutionProvider("cuda", dir), /missing libonnxruntime_providers_cuda\.so in /);
  await writeFile(join(dir, "libonnxruntime_providers_cuda.so"), "");
  assert.doesNotThrow(() => assertExecutionProvider("cuda", dir));
  const cudnn = "Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory";
  assert.ok(providerLoadFailure("cuda", cudnn) instanceof ProviderUnavailableError);
});

test("cuda missing - serve logs the reason once, /readyz 503 with it, the worker is not restarted", { skip }, async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  // A short restart backoff: were the failure treated as a crash, restarts would pile up quickly.
  const service = await Service.start(ns.url, { OFA_EXECUTION_PROVIDER: "cuda", OFA_WORKERS: "2", OFA_RESTART_BACKOFF_MS: "20" });
  t.after(() => service.stop());
  const status = async () => (await service.status()).workers;
  await until(async () => (await status()).every((w) => w.state === "failed"), { name: "both workers failed for good", timeoutMs: 60_000, intervalMs: 100 });

  const readyz = await service.get("/readyz");
  assert.equal(readyz.status, 503);
  const reasons = (JSON.parse(readyz.text) as { reasons: string[] }).reasons;
  assert.equal(reasons.length, 1, JSON.stringify(reasons));
  assert.match(reasons[0]!, /no CUDA execution provider \(missing libonnxruntime_providers_shared\.so/);
  assert.match(reasons[0]!, /README "GPU"/);
  assert.equal((await service.get("/healthz")).status, 200);

  const refusals = service.lines.filter((l) => l.msg === "worker cannot start and will not be restarted");
  assert.equal(refusals.length, 1, "logged once for the pool");
  assert.match(String(refusals[0]!.reason), /ONNXRUNTIME_NODE_INSTALL=cuda12/);
  assert.equal(service.lines.filter((l) => l.msg === "worker exited; restarting").length, 0);
  assert.equal(await service.metric("ofa_worker_restarts_total"), 0);
  assert.equal(await service.metric("ofa_workers_failed"), 2);
  assert.equal(await service.metric("ofa_workers_ready"), 0);
  for (const w of await status()) assert.equal(w.restarts, 0);
});
