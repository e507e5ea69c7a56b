/**
 * The int8 variant (models/export/quantize.py, OFA_PRECISION=int8): the pass's Python unit tests, its toy graph on
 * onnxruntime-node against fp32, and the committed tiny model.int8.onnx agreeing with model.onnx on the fixed
 * 64-input set of bench/agreement.ts through the service's own model path. The tiny model's random weights answer
 * every input with the same label and scores that move by only ~4e-3 from input to input, so label agreement says
 * little here and the score thresholds carry the check: they sit above what int8 measures (max |Δscore| 1.4e-3, mean
 * 1.9e-4 with the static ResNet; 8e-4 and 2e-4 with matmuls alone) and ~2.5× below what answers to the wrong inputs
 * give (4e-3, 1.3e-3), which a control asserts. The int8 graph is deterministic (fixed calibration images and inputs).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { compareScores, fixedSamples, scoresOf } from "../../bench/agreement.ts";
import { ConfigError, loadConfig } from "../../src/config/index.ts";
import { Model } from "../../src/model/index.ts";
import { pythonUnitTests, reference, TINY_DIR } from "./reference.ts";

const MAX_SCORE_DELTA = 0.002;
const MEAN_SCORE_DELTA = 0.0005;
const MIN_LABEL_AGREEMENT = 62 / 64;

function agrees(r: ReturnType<typeof compareScores>): boolean {
  return r.maxAbsDelta <= MAX_SCORE_DELTA && r.meanAbsDelta <= MEAN_SCORE_DELTA && r.labelAgreement >= MIN_LABEL_AGREEMENT;
}

for (const file of ["test_quantize.py", "test_quantize_resnet.py"]) test(`int8 - the quantisation pass's Python unit tests pass (${file})`, async () => {
  const { code, output } = await pythonUnitTests(file);
  assert.equal(code, 0, output);
});

test("int8 - the toy graph's int8 forms run on onnxruntime-node close to fp32, and are quantised", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "ofa-int8-toy-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const paths = await reference<Record<"fp32" | "contrib" | "onnx", string>>({ cmd: "quanttoy", out: dir });
  const rows = 8;
  const x = Float32Array.from({ length: rows * 64 }, (_, i) => Math.sin(i * 0.731) * (1 + (i % 7)));
  const run = async (path: string) => {
    const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1 });
    try {
      return (await session.run({ x: new ort.Tensor("float32", x, [rows, 64]) })).y!.data as Float32Array;
    } finally {
      await session.release();
    }
  };
  const ref = await run(paths.fp32);
  const scale = Math.max(...ref.map(Math.abs));
  for (const form of ["contrib", "onnx"] as const) {
    const got = await run(paths[form]);
    const worst = Math.max(...got.map((v, i) => Math.abs(v - ref[i]!)));
    t.diagnostic(`${form}: max |int8 - fp32| ${worst.toExponential(2)} of outputs up to ${scale.toFixed(2)}`);
    assert.ok(worst <= 0.03 * scale, `${form}: int8 strays ${worst} from fp32 (outputs up to ${scale})`);
    assert.ok(worst > 1e-6, `${form}: int8 output equals fp32 exactly: nothing was quantised`);
  }
});

test("int8 - the toy ResNet's static int8 form runs on onnxruntime-node close to fp32, as QLinearConv", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "ofa-int8-resnet-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const paths = await reference<Record<"resnet-fp32" | "resnet-static", string>>({ cmd: "quanttoy", out: dir });
  const size = 32;
  // Photo-like input in the normalised range: smooth fields plus texture.
  const x = Float32Array.from({ length: 2 * 3 * size * size }, (_, i) => Math.sin(i * 0.013) * 0.7 + Math.sin(i * 0.71) * 0.2);
  const run = async (path: string, profile: boolean) => {
    const session = await ort.InferenceSession.create(path, {
      intraOpNumThreads: 1, graphOptimizationLevel: "all", enableProfiling: profile, profileFilePrefix: join(dir, "profile"),
    });
    try {
      const y = (await session.run({ patch_images: new ort.Tensor("float32", x, [2, 3, size, size]) })).y!.data as Float32Array;
      if (profile) session.endProfiling();
      return y;
    } finally {
      await session.release();
    }
  };
  const ref = await run(paths["resnet-fp32"], false);
  const got = await run(paths["resnet-static"], true);
  const scale = Math.max(...ref.map(Math.abs));
  const worst = Math.max(...got.map((v, i) => Math.abs(v - ref[i]!)));
  t.diagnostic(`max |static int8 - fp32| ${worst.toExponential(2)} of outputs up to ${scale.toFixed(2)}`);
  assert.ok(worst <= 0.05 * scale, `static int8 strays ${worst} from fp32 (outputs up to ${scale})`);
  assert.ok(worst > 1e-6, "static int8 output equals fp32 exactly: nothing was quantised");
  // The speed comes from onnxruntime fusing the QDQ pairs into integer kernels; a graph it cannot fuse would run
  // fp32 convolutions between extra quantise steps, slower than no int8 at all.
  const profile = (await readdir(dir)).find((f) => f.startsWith("profile"));
  assert.ok(profile, "no onnxruntime profile written");
  const ops = new Set((JSON.parse(await readFile(join(dir, profile), "utf8")) as { args?: { op_name?: string } }[]).map((e) => e.args?.op_name));
  assert.ok(ops.has("QLinearConv"), `no QLinearConv ran: ${[...ops].join(", ")}`);
  assert.ok(!ops.has("ConvInteger"), "a convolution ran as ConvInteger");
});

test("int8 - the committed tiny int8 model agrees with fp32 on the fixed 64-input set", async () => {
  const samples = await fixedSamples(64);
  const fp32 = await scoresOf(TINY_DIR, "fp32", samples, 1, 8);
  const int8 = await scoresOf(TINY_DIR, "int8", samples, 1, 8);
  const report = compareScores(fp32, int8);
  assert.ok(agrees(report), `int8 vs fp32: ${JSON.stringify(report)}`);
  // Control: the same thresholds reject answers that belong to other inputs, so they are not vacuous.
  const shifted = compareScores(fp32, [...fp32.slice(1), fp32[0]!]);
  assert.ok(!agrees(shifted), `thresholds accept answers to the wrong inputs: ${JSON.stringify(shifted)}`);
});

test("int8 - OFA_PRECISION=int8 loads model.int8.onnx and marks the verdicts' model version", async () => {
  const options = { modelDir: TINY_DIR, executionProvider: "cpu", intraOpThreads: 1, limits: { maxImagePixels: 1e6 }, resize: "sharp" } as const;
  const [fp32, int8] = [await Model.open({ ...options, precision: "fp32" }), await Model.open({ ...options, precision: "int8" })];
  try {
    assert.equal(int8.info.version, `${fp32.info.version}-int8`);
    assert.equal(int8.info.name, fp32.info.name);
  } finally {
    await Promise.all([fp32.close(), int8.close()]);
  }
  await assert.rejects(Model.open({ ...options, precision: "fp16" }), /no fp16 ONNX file/);
});

test("int8 - OFA_PRECISION=int8 is a CPU setting: accepted with cpu, refused with cuda", () => {
  assert.equal(loadConfig({}, { OFA_PRECISION: "int8" }).precision, "int8");
  assert.throws(() => loadConfig({}, { OFA_PRECISION: "int8", OFA_EXECUTION_PROVIDER: "cuda" }), (err: unknown) =>
    err instanceof ConfigError && err.problems.some((p) => p.includes("OFA_PRECISION=int8")));
});
