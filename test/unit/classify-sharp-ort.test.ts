/**
 * The sharp and onnxruntime classifiers against the libraries' real messages: sharp 0.35 on a real image over the
 * pixel limit and on a truncated one; onnxruntime-node 1.30's provider-load failure (the text
 * test/integration/cuda-missing.test.ts gets from a real session on a CPU-only build) and a real session.run failure.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import ort from "onnxruntime-node";
import { join } from "node:path";
import { classifySharpError } from "../../src/errors/classify-sharp.ts";
import { classifyOrtError } from "../../src/errors/classify-ort.ts";
import { TINY_MODEL } from "../harness/service.ts";

const failure = (p: Promise<unknown>) => p.then(() => assert.fail("expected a failure"), (err: unknown) => err);

test("classify-sharp - over the pixel limit vs a corrupt image, as sharp really reports them", async () => {
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#808080" } }).png().toBuffer();
  const tooMany = await failure(sharp(png, { limitInputPixels: 100 }).raw().toBuffer());
  assert.match((tooMany as Error).message, /^Input image exceeds pixel limit$/);
  assert.equal(classifySharpError(tooMany), "pixel-limit");
  const truncated = await failure(sharp(png.subarray(0, 60), { failOn: "error" }).raw().toBuffer());
  assert.match((truncated as Error).message, /corrupt header/);
  assert.equal(classifySharpError(truncated), "decode");
});

test("classify-ort - a provider's libraries failing to load vs any other onnxruntime failure", async () => {
  const cudnn = "Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory";
  assert.equal(classifyOrtError(new Error(cudnn)), "provider-load");
  assert.equal(classifyOrtError(cudnn), "provider-load");
  const session = await ort.InferenceSession.create(join(TINY_MODEL, "model.onnx"));
  const runFailure = await failure(session.run({}));
  assert.ok(runFailure instanceof Error);
  assert.equal(classifyOrtError(runFailure), "other");
  await session.release();
});
