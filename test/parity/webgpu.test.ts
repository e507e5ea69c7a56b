/**
 * The webgpu form of the model (models/README.md §1.1b) on onnxruntime's WebGPU provider, on whatever Vulkan device
 * the host has: Mesa's lavapipe in CI (scripts/prereqs.sh installs it), a real GPU elsewhere. Against the CPU
 * provider running the CPU form: fp32 logits within 1e-4 (one graph, and the split pair with its image state kept on
 * the GPU between the two graphs), fp16 with the same labels and a bounded difference. And on the CPU provider, the
 * two forms are the same model (within 1e-5): only how the attention is written differs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { maxAbsDiff, PYTHON, REPO_ROOT, TINY_DIR } from "./reference.ts";
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const TINY_SPLIT_DIR = join(REPO_ROOT, "models/tiny-split");
const GPU_TOLERANCE = 1e-4;
const FORM_TOLERANCE = 1e-5;
/** fp16 against fp32: measured 0.02 on lavapipe for the tiny model (random weights, logits of ±10). */
const FP16_TOLERANCE = 0.1;
const SIZE = 96;

/** Two right-padded prompt rows of unequal length (pad id 1), so the padding path is what runs. */
function feeds(rows = 2, images = rows): Record<string, ort.Tensor> {
  const width = 9;
  const ids = new BigInt64Array(rows * width).fill(1n);
  for (let r = 0; r < rows; r++) {
    const length = width - 2 * (r % 2);
    ids[r * width] = 0n;
    for (let c = 1; c < length - 1; c++) ids[r * width + c] = BigInt(5 + ((r * 7 + c * 13) % 90));
    ids[r * width + length - 1] = 2n;
  }
  const pixels = Float32Array.from({ length: images * 3 * SIZE * SIZE }, (_, i) => Math.sin(i * 0.37) * 0.9);
  return {
    input_ids: new ort.Tensor("int64", ids, [rows, width]),
    patch_images: new ort.Tensor("float32", pixels, [images, 3, SIZE, SIZE]),
    decoder_input_ids: new ort.Tensor("int64", new BigInt64Array(rows), [rows, 1]),
  };
}

async function logits(path: string, provider: "cpu" | "webgpu", input: Record<string, ort.Tensor>): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(path, { executionProviders: [provider], logSeverityLevel: 3 });
  try {
    return (await session.run(input)).answer_logits!.data as Float32Array;
  } finally {
    await session.release();
  }
}

function labels(rows: Float32Array, columns = 3): number[] {
  return Array.from({ length: rows.length / columns }, (_, r) => {
    const row = Array.from(rows.subarray(r * columns, (r + 1) * columns));
    return row.indexOf(Math.max(...row));
  });
}

test("webgpu - the tiny one-graph webgpu form on the WebGPU provider gives the CPU form's logits on the CPU within 1e-4", async (t) => {
  const input = feeds();
  const cpu = await logits(join(TINY_DIR, "model.onnx"), "cpu", input);
  const gpu = await logits(join(TINY_DIR, "model.webgpu.onnx"), "webgpu", input);
  const diff = maxAbsDiff(gpu, cpu);
  t.diagnostic(`max |webgpu - cpu| = ${diff.toExponential(2)}`);
  assert.ok(diff <= GPU_TOLERANCE, `webgpu and cpu differ by ${diff}`);
});

test("webgpu - on the CPU provider the webgpu form (plain attention ops) is the CPU form (MultiHeadAttention) within 1e-5", async (t) => {
  const input = feeds(3);
  const diff = maxAbsDiff(await logits(join(TINY_DIR, "model.webgpu.onnx"), "cpu", input), await logits(join(TINY_DIR, "model.onnx"), "cpu", input));
  t.diagnostic(`max |plain - mha| on cpu = ${diff.toExponential(2)}`);
  assert.ok(diff <= FORM_TOLERANCE, `the forms differ by ${diff}`);
});

test("webgpu - split form: the image state stays on the GPU, each image sent once, rows pick theirs inside the graph; equals the CPU split form", async (t) => {
  const rows = 3;
  const images = 2;
  const rowImage = [1, 0, 1];
  const input = feeds(rows, images);
  // CPU: the CPU split form, one image state per row.
  const cpuEncoder = await ort.InferenceSession.create(join(TINY_SPLIT_DIR, "image_encoder.onnx"));
  const cpuFusion = await ort.InferenceSession.create(join(TINY_SPLIT_DIR, "text_fusion.onnx"));
  const state = (await cpuEncoder.run({ patch_images: input.patch_images! })).image_state!;
  const [tokens, width] = [Number(state.dims[1]), Number(state.dims[2])];
  const perRow = new Float32Array(rows * tokens * width);
  rowImage.forEach((i, r) => perRow.set((state.data as Float32Array).subarray(i * tokens * width, (i + 1) * tokens * width), r * tokens * width));
  const cpu = (await cpuFusion.run({ input_ids: input.input_ids!, image_state: new ort.Tensor("float32", perRow, [rows, tokens, width]), decoder_input_ids: input.decoder_input_ids! })).answer_logits!.data as Float32Array;
  // webgpu: the encoder's output is a GPU buffer handed to the text+fusion graph as it is.
  const encoder = await ort.InferenceSession.create(join(TINY_SPLIT_DIR, "image_encoder.webgpu.onnx"), { executionProviders: ["webgpu"], preferredOutputLocation: "gpu-buffer", logSeverityLevel: 3 });
  const fusion = await ort.InferenceSession.create(join(TINY_SPLIT_DIR, "text_fusion.webgpu.onnx"), { executionProviders: ["webgpu"], logSeverityLevel: 3 });
  t.after(() => Promise.all([cpuEncoder, cpuFusion, encoder, fusion].map((s) => s.release())));
  const onGpu = (await encoder.run({ patch_images: input.patch_images! })).image_state!;
  assert.equal(onGpu.location, "gpu-buffer");
  const gpu = (await fusion.run({
    input_ids: input.input_ids!,
    image_state: onGpu,
    image_rows: new ort.Tensor("int64", BigInt64Array.from(rowImage, BigInt), [rows]),
    decoder_input_ids: input.decoder_input_ids!,
  })).answer_logits!.data as Float32Array;
  onGpu.dispose();
  const diff = maxAbsDiff(gpu, cpu);
  t.diagnostic(`split: max |webgpu - cpu| = ${diff.toExponential(2)}`);
  assert.ok(diff <= GPU_TOLERANCE, `split webgpu and cpu differ by ${diff}`);
});

test("webgpu - fp16 of the webgpu form runs on the WebGPU provider with the fp32 CPU labels, within 0.1", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "ofa-webgpu-fp16-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const fp16Path = join(dir, "model.webgpu.fp16.onnx");
  const convert = `import sys; sys.path.insert(0, "models/export"); import fp16; fp16.convert(sys.argv[1], sys.argv[2])`;
  await promisify(execFile)(PYTHON, ["-c", convert, join(TINY_DIR, "model.webgpu.onnx"), fp16Path], { cwd: REPO_ROOT });
  const input = feeds(4);
  const cpu = await logits(join(TINY_DIR, "model.onnx"), "cpu", input);
  const half = await logits(fp16Path, "webgpu", input);
  const diff = maxAbsDiff(half, cpu);
  t.diagnostic(`fp16 on webgpu: max |Δ| against fp32 cpu = ${diff.toExponential(2)}`);
  assert.deepEqual(labels(half), labels(cpu));
  assert.ok(diff <= FP16_TOLERANCE, `fp16 differs by ${diff}`);
});
