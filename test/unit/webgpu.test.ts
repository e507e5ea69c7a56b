/**
 * The pure parts of the webgpu path: which Vulkan adapter is named (as Dawn picks for high performance), how a
 * profile becomes a node placement, where the Vulkan loader is looked for, which graphs a provider loads, and the
 * GPU defaults. The real device runs in test/parity/webgpu.test.ts and test/integration/webgpu-serve.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pickAdapter, probeVulkanAdapter } from "../../src/model/adapter.ts";
import { summarisePlacement } from "../../src/model/placement.ts";
import { assertExecutionProvider, findVulkanLoader, providerLoadFailure, ProviderUnavailableError } from "../../src/model/providers.ts";
import { loadManifest } from "../../src/model/manifest.ts";
import { chooseModelDefaults } from "../../src/supervisor/model-defaults.ts";
import { chooseLayout } from "../../src/supervisor/layout.ts";
import { TINY_MODEL } from "../harness/service.ts";

const device = (n: number, type: string, vendor: string, name: string, driver: string, info: string) =>
  `GPU${n}:\n\tapiVersion         = 1.3.277\n\tvendorID           = ${vendor}\n\tdeviceType         = PHYSICAL_DEVICE_TYPE_${type}\n\tdeviceName         = ${name}\n\tdriverName         = ${driver}\n\tdriverInfo         = ${info}\n`;
const SUMMARY = `==========\nVULKANINFO\n==========\n\nDevices:\n========\n${device(0, "CPU", "0x10005", "llvmpipe (LLVM 15.0.6, 256 bits)", "llvmpipe", "Mesa 25.0.7")}${device(1, "DISCRETE_GPU", "0x10de", "NVIDIA H100 80GB HBM3", "NVIDIA", "550.54.15")}`;

test("webgpu adapter - a discrete GPU is named before lavapipe, with vendor, type, description and driver", () => {
  const probe = pickAdapter(SUMMARY);
  assert.ok(probe?.found);
  assert.deepEqual(probe.adapter, {
    vendor: "NVIDIA", vendorId: "0x10de", deviceType: "discrete", description: "NVIDIA H100 80GB HBM3", driver: "NVIDIA: 550.54.15", apiVersion: "1.3.277", software: false,
  });
  assert.equal(probe.others, 1);
  const lavapipeOnly = pickAdapter(`Devices:\n========\n${device(0, "CPU", "0x10005", "llvmpipe (LLVM 15.0.6, 256 bits)", "llvmpipe", "Mesa 25.0.7")}`);
  assert.ok(lavapipeOnly?.found);
  assert.equal(lavapipeOnly.adapter.software, true);
  assert.equal(lavapipeOnly.adapter.vendor, "Mesa");
  assert.equal(pickAdapter("Devices:\n========\n"), undefined);
});

test("webgpu adapter - the probe asks this host's Vulkan loader (lavapipe in CI) and names a device", async () => {
  const probe = await probeVulkanAdapter();
  assert.ok(probe.found, JSON.stringify(probe));
  assert.ok(probe.adapter.description.length > 0);
  const none = await probeVulkanAdapter({ ...process.env, VK_DRIVER_FILES: "/nonexistent/icd.json" });
  assert.equal(none.found, false);
});

test("webgpu placement - a profile's node events become per-node providers; CPU ops counted once per node", () => {
  const events = [
    { cat: "Session", name: "model_run" },
    { cat: "Node", name: "/enc/MatMul_kernel_time", args: { provider: "WebGpuExecutionProvider", op_name: "MatMul" } },
    { cat: "Node", name: "/enc/MatMul_fence_before", args: { provider: "WebGpuExecutionProvider", op_name: "MatMul" } },
    { cat: "Node", name: "/enc/Shape_kernel_time", args: { provider: "CPUExecutionProvider", op_name: "Shape" } },
    { cat: "Node", name: "/enc/Gather_kernel_time", args: { provider: "CPUExecutionProvider", op_name: "Gather" } },
    { cat: "Node", name: "/enc/Gather_kernel_time", args: { provider: "CPUExecutionProvider", op_name: "Gather" } },
  ];
  assert.deepEqual(summarisePlacement(events, "webgpu"), { provider: "webgpu", nodes: 3, cpuNodes: 2, cpuOps: { Shape: 1, Gather: 1 } });
});

test("webgpu provider - no Vulkan loader is a permanent refusal naming the install; an adapter failure is recognised", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "ofa-vulkan-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  assert.ok(findVulkanLoader(), "this host has libvulkan.so.1 (scripts/prereqs.sh installs it)");
  await writeFile(join(dir, "libvulkan.so.1"), "");
  assert.equal(findVulkanLoader({ LD_LIBRARY_PATH: dir }), join(dir, "libvulkan.so.1"));
  assert.doesNotThrow(() => assertExecutionProvider("webgpu"));
  const message = "/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 lambda adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n";
  const typed = providerLoadFailure("webgpu", message);
  assert.ok(typed instanceof ProviderUnavailableError);
  assert.match(typed.message, /no Vulkan adapter could be opened \(lambda adapter_result/);
  assert.equal(providerLoadFailure("webgpu", "model file is corrupt"), undefined);
  assert.equal(providerLoadFailure("cpu", message), undefined);
});

test("webgpu graphs - the manifest gives webgpu its own form, refuses int8 there, and names the fix for a directory without it", async () => {
  const dir = await loadManifest(TINY_MODEL);
  assert.deepEqual(dir.graphs("fp32", "webgpu"), { form: "one", model: join(TINY_MODEL, "model.webgpu.onnx") });
  assert.deepEqual(dir.graphs("fp32", "cuda"), { form: "one", model: join(TINY_MODEL, "model.onnx") });
  assert.throws(() => dir.graphs("int8", "webgpu"), /int8 is a CPU variant/);
  const tmp = await mkdtemp(join(tmpdir(), "ofa-old-manifest-"));
  try {
    await writeFile(join(tmp, "manifest.json"), JSON.stringify({ ...dir.manifest, webgpu: undefined }));
    const before = await loadManifest(tmp);
    assert.throws(() => before.graphs("fp32", "webgpu"), /no webgpu graph form: it was exported before the webgpu form: re-export it/);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test("webgpu defaults - one worker with one onnxruntime thread, batch limit 16, preprocessing threads from the host's cores", () => {
  assert.deepEqual(chooseLayout(16, { workers: 0, intraOpThreads: 0, executionProvider: "webgpu" }), { workers: 1, intraOpThreads: 1 });
  const chosen = chooseModelDefaults({ maxBatch: 0, preprocessThreads: 0, executionProvider: "webgpu", cores: 16, workers: 1, modelBytes: 1.9e9 });
  assert.equal(chosen.maxBatch, 16);
  assert.equal(chosen.preprocessThreads, 15);
  assert.match(chosen.why.join("; "), /max batch 16: webgpu/);
});
