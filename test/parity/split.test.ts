/**
 * Parity of the split form (models/export/ofa_split.py): the image-encoder graph chained into the text+fusion graph
 * equals the one-graph export of the same weights within 1e-5, and torch within the suite's 1e-4; and the service's
 * row path (Model.inferRows: one image, many hypotheses, embeddings kept across runs) equals asking each hypothesis
 * alone. Tiny: models/tiny vs models/tiny-split (both seed 0). Large: the OFA-large-shaped pair when
 * OFA_PARITY_LARGE_DIR and OFA_PARITY_LARGE_SPLIT_DIR name them (a 6-minute export each; see models/README.md).
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { Model } from "../../src/model/index.ts";
import { fromBase64F32, int64Rows, maxAbsDiff, pythonUnitTests, reference, REPO_ROOT, runLogitsCase, TINY_DIR, type LogitsCase } from "./reference.ts";

const TINY_SPLIT_DIR = join(REPO_ROOT, "models/tiny-split");
const SPLIT_TOLERANCE = 1e-5;

async function withSession<T>(path: string, fn: (s: ort.InferenceSession) => Promise<T>): Promise<T> {
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 2 });
  try {
    return await fn(session);
  } finally {
    await session.release();
  }
}

/** The split pair run by hand: image encoder on the case's images, text+fusion on its rows. */
async function splitLogits(dir: string, c: LogitsCase): Promise<Float32Array> {
  const state = await withSession(join(dir, "image_encoder.onnx"), async (s) => {
    const out = await s.run({ patch_images: new ort.Tensor("float32", fromBase64F32(c.patchImages), c.imageShape) });
    return out.image_state!;
  });
  return withSession(join(dir, "text_fusion.onnx"), async (s) => {
    const ids = int64Rows(c.inputIds);
    const dec = int64Rows(c.decoderInputIds);
    const out = await s.run({
      input_ids: new ort.Tensor("int64", ids.data, ids.dims),
      image_state: state,
      decoder_input_ids: new ort.Tensor("int64", dec.data, dec.dims),
    });
    return out.answer_logits!.data as Float32Array;
  });
}

async function compareForms(t: TestContext, oneDir: string, splitDir: string, cases: readonly LogitsCase[]): Promise<void> {
  const one = await withSession(join(oneDir, "model.onnx"), async (s) => Promise.all(cases.map(async (c) => (await runLogitsCase(s, c)).data as Float32Array)));
  for (const [i, c] of cases.entries()) {
    const split = await splitLogits(splitDir, c);
    const diff = maxAbsDiff(split, one[i]!);
    t.diagnostic(`case ${i} (batch ${c.inputIds.length}): max |split - one graph| = ${diff.toExponential(2)}`);
    assert.ok(diff <= SPLIT_TOLERANCE, `case ${i}: split and one-graph differ by ${diff}`);
    if (c.logits) {
      const torchDiff = maxAbsDiff(split, c.logits.flat());
      assert.ok(torchDiff <= 1e-4, `case ${i}: split vs torch ${torchDiff}`);
    }
  }
}

test("parity - the encoder's image state (first layer's image-only attention, rejoined per row) equals plain attention (test_image_state.py)", async () => {
  const { code, output } = await pythonUnitTests("test_image_state.py");
  assert.equal(code, 0, output);
});

test("parity - tiny split graphs (image encoder + text/fusion) equal the one graph within 1e-5 and torch within 1e-4", async (t) => {
  const { cases } = await reference<{ cases: LogitsCase[] }>({ cmd: "logits", dir: TINY_DIR, config: "tiny", seed: 0 });
  await compareForms(t, TINY_DIR, TINY_SPLIT_DIR, cases);
});

test("parity - a policy list through Model.inferRows (image encoded once, split over runs) equals each hypothesis asked alone", async (t) => {
  const open = (modelDir: string) =>
    Model.open({ modelDir, executionProvider: "cpu", precision: "fp32", intraOpThreads: 1, limits: { maxImagePixels: 1e8 }, resize: "sharp" });
  const [one, split] = [await open(TINY_DIR), await open(TINY_SPLIT_DIR)];
  t.after(async () => {
    await one.close();
    await split.close();
  });
  assert.equal(split.manifest.split !== undefined, true);
  assert.equal(one.manifest.split !== undefined, false);
  const size = split.manifest.image.size;
  const pixels = Float32Array.from({ length: 3 * size * size }, (_, i) => Math.sin(i * 0.37));
  const other = Float32Array.from({ length: 3 * size * size }, (_, i) => Math.cos(i * 0.11));
  const texts = Array.from({ length: 7 }, (_, i) => `claim number ${i} about ${"the picture ".repeat(i)}`);
  const rows = texts.map((text) => split.tokenize(text));
  // Each hypothesis asked alone: a group of one row per request, as single requests are batched.
  const alone = (await one.inferRows(rows.map((row) => ({ image: { pixels }, rows: [row] })))).answers.map((a) => a[0]!);

  // First run: 3 rows of the list next to another request's image; the rest in a second run from the kept embeddings.
  const first = await split.inferRows([{ image: { pixels }, rows: rows.slice(0, 3) }, { image: { pixels: other }, rows: [rows[0]!] }]);
  const embeds = first.embeds[0];
  assert.ok(embeds, "the split model returns the image's embeddings");
  assert.equal(embeds.data.length, embeds.tokens * embeds.dim);
  const second = await split.inferRows([{ image: { embeds }, rows: rows.slice(3) }]);
  assert.deepEqual(second.embeds, [undefined], "nothing re-encoded in the second run");
  const listed = [...first.answers[0]!, ...second.answers[0]!];
  const oneGraphList = (await one.inferRows([{ image: { pixels }, rows }])).answers[0]!;
  let worst = 0;
  listed.forEach((a, i) => {
    for (const label of ["yes", "no", "maybe"] as const) {
      worst = Math.max(worst, Math.abs(a.scores[label] - alone[i]!.scores[label]), Math.abs(oneGraphList[i]!.scores[label] - alone[i]!.scores[label]));
    }
    assert.equal(a.label, alone[i]!.label, `hypothesis ${i}`);
  });
  t.diagnostic(`max |list score - single score| = ${worst.toExponential(2)}`);
  assert.ok(worst <= 1e-5, `scores differ by ${worst}`);
  const otherAlone = (await one.inferRows([{ image: { pixels: other }, rows: [rows[0]!] }])).answers[0]![0]!;
  assert.ok(Math.abs(first.answers[1]![0]!.scores.yes - otherAlone.scores.yes) <= 1e-5, "the other image's row is its own");
});

const LARGE = { one: process.env.OFA_PARITY_LARGE_DIR, split: process.env.OFA_PARITY_LARGE_SPLIT_DIR };
test(
  "parity - OFA-large-shaped split graphs equal the one graph within 1e-5",
  { skip: !(LARGE.one && LARGE.split) && "set OFA_PARITY_LARGE_DIR and OFA_PARITY_LARGE_SPLIT_DIR (npm run model:large, and the same with --split)" },
  async (t) => {
    const { cases } = await reference<{ cases: LogitsCase[] }>({ cmd: "cases", dir: LARGE.one! });
    await compareForms(t, LARGE.one!, LARGE.split!, cases.slice(0, 1));
  },
);
