/**
 * Parity: the whole TypeScript path on the tiny model — image bytes through preprocessImage (sharp),
 * texts through buildPrompt + the tokenizer, a padded batch through assembleRows and the session
 * thread (onnxruntime-node) — against PyTorch on the same random weights. The ids must equal the
 * reference's; the logits must match torch fed the TS pixels within 1e-4 (image resampling itself is
 * compared in preprocess.test.ts); the decoded labels must equal the reference decoding.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assembleRows, type RowGroup } from "../../src/model/rows.ts";
import { answerScores } from "../../src/model/answer-scores.ts";
import { loadManifest } from "../../src/model/manifest.ts";
import { preprocessImage } from "../../src/model/preprocess.ts";
import { buildPrompt } from "../../src/model/prompt.ts";
import { ModelSession } from "../../src/model/session.ts";
import { loadTokenizer } from "../../src/model/tokenizer.ts";
import { maxAbsDiff, reference, TINY_DIR, toBase64F32, type LogitsCase } from "./reference.ts";

const REQUESTS = [
  { w: 320, h: 240, hypothesis: "Two dogs are playing with a red ball." },
  { w: 64, h: 128, hypothesis: "A man is sleeping.", premise: "A man rides a bicycle down a busy street." },
  { w: 500, h: 375, hypothesis: "the kids play soccer on the grass " + "and laugh ".repeat(30) },
];

function rows(data: BigInt64Array, batch: number, width: number): number[][] {
  return Array.from({ length: batch }, (_, b) => Array.from(data.subarray(b * width, (b + 1) * width), Number));
}

test("parity - full TS pipeline (sharp, tokenizer, batch, session thread) matches torch within 1e-4", async (t) => {
  const { manifest, dir } = await loadManifest(TINY_DIR);
  const tokenizer = await loadTokenizer(dir, manifest);
  const imgDir = await mkdtemp(join(tmpdir(), "ofa-parity-pipe-"));
  t.after(() => rm(imgDir, { recursive: true, force: true }));
  const { images } = await reference<{ images: { path: string }[] }>({
    cmd: "images", outDir: imgDir, size: manifest.image.size,
    specs: REQUESTS.map((r, i) => ({ w: r.w, h: r.h, seed: 100 + i, format: "png" })),
  });
  // Single requests, as a worker runs them: one group (its own image) of one row each.
  const groups: RowGroup[] = [];
  for (const [i, r] of REQUESTS.entries()) {
    const pixels = await preprocessImage(await readFile(images[i]!.path), manifest.image, { maxImagePixels: 1e8 });
    groups.push({ image: { pixels }, rows: [tokenizer.encodePrompt(buildPrompt(manifest, r.hypothesis, r.premise))] });
  }
  const text = await reference<{ items: { inputIds: number[] }[] }>({ cmd: "text", dir: TINY_DIR, items: REQUESTS });
  groups.forEach((g, i) => assert.deepEqual(g.rows[0], text.items[i]!.inputIds, `ids of request ${i}`));

  // One image per row, so the feed's images are the batch torch takes.
  const feed = assembleRows(groups, manifest);
  const torchCase: LogitsCase = {
    inputIds: rows(feed.inputIds, feed.rows, feed.textLength),
    decoderInputIds: rows(feed.decoderIds, feed.rows, feed.decoderLength),
    patchImages: toBase64F32(feed.images),
    imageShape: [feed.rows, 3, feed.imageSize, feed.imageSize],
  };
  const session = await ModelSession.open({
    onnxPath: join(dir, manifest.onnx!.fp32), executionProvider: "cpu", intraOpThreads: 2,
    inputNames: manifest.inputs, outputName: manifest.output,
  });
  t.after(() => session.close());
  const result = await session.run(feed);
  const ref = await reference<{ cases: LogitsCase[] }>({ cmd: "logits", config: "tiny", seed: 0, cases: [torchCase] });
  const want = ref.cases[0]!.logits!;
  const diff = maxAbsDiff(result.logits, want.flat());
  t.diagnostic(`max |ts pipeline - torch| = ${diff.toExponential(2)}`);
  assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
  const verdicts = await reference<{ verdicts: { label: string }[] }>({ cmd: "decode", logits: want, answers: manifest.answers });
  want.forEach((_, b) => {
    const got = answerScores(result.logits.subarray(b * result.columns, (b + 1) * result.columns), manifest.answers);
    assert.equal(got.label, verdicts.verdicts[b]!.label, `verdict of request ${b}`);
  });
});
