import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { loadManifest } from "../../src/model/manifest.ts";
import { buildPrompt, preCaption } from "../../src/model/prompt.ts";
import { answerScores } from "../../src/model/answer-scores.ts";
import { preprocessImage, sniffFormat } from "../../src/model/preprocess.ts";
import { assembleRows } from "../../src/model/rows.ts";
import { ErrorCode, VerdictError } from "../../src/protocol/index.ts";

test("prompt - pre_caption lower-cases, strips leading punctuation, splits - and /, folds whitespace runs", () => {
  assert.equal(preCaption("...Two  DOGS-run/play\n\n", 256), "two dogs run play");
  assert.equal(preCaption("a <person> waves.", 256), "a person waves.");
  assert.equal(preCaption("one two three four", 2), "one two");
});

test("prompt - a premise selects the premise template, as OFA's text1/text2 form", async () => {
  const { manifest } = await loadManifest("models/tiny");
  assert.equal(buildPrompt(manifest, "There are two birds."), ' does the image describe " there are two birds. "?');
  assert.equal(buildPrompt(manifest, "There are two birds.", "A dog."), ' can image and text1 " a dog. " imply text2 " there are two birds. "?');
});

test("decode - scores are the softmax of the answer logits and the label their argmax", () => {
  const answers = [{ label: "no", tokenId: 1 }, { label: "yes", tokenId: 2 }, { label: "maybe", tokenId: 3 }] as const;
  const v = answerScores([0, Math.log(3), 0], answers);
  assert.equal(v.label, "yes");
  assert.ok(Math.abs(v.scores.yes - 0.6) < 1e-12 && Math.abs(v.scores.no - 0.2) < 1e-12);
  const huge = answerScores([1000, 999, 0], answers);
  assert.ok(Number.isFinite(huge.scores.no) && huge.label === "no", "no overflow on large logits");
});

test("preprocess - formats are sniffed by magic bytes; unknown formats and pixel bombs are refused before decoding", async () => {
  const png = await sharp({ create: { width: 4, height: 4, channels: 4, background: "#ff000080" } }).png().toBuffer();
  assert.equal(sniffFormat(png), "png");
  const spec = { size: 8, resize: "bicubic" as const, mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.5, 0.5, 0.5] as [number, number, number] };
  const pixels = await preprocessImage(png, spec, { maxImagePixels: 100 });
  assert.equal(pixels.length, 3 * 8 * 8);
  assert.ok(Math.abs(pixels[0]! - 1) < 1e-6, "red channel of pure red is +1 after (x/255-0.5)/0.5");
  const gif = Buffer.from("GIF89a....");
  await assert.rejects(preprocessImage(gif, spec, { maxImagePixels: 100 }), (e: VerdictError) => e.code === ErrorCode.IMAGE_FORMAT);
  const big = await sharp({ create: { width: 20, height: 20, channels: 3, background: "#000" } }).png().toBuffer();
  await assert.rejects(preprocessImage(big, spec, { maxImagePixels: 100 }), (e: VerdictError) => e.code === ErrorCode.IMAGE_TOO_LARGE);
});

test("batch - prompts are right-padded with the pad id to the batch's longest", async () => {
  const { manifest } = await loadManifest("models/tiny");
  const px = new Float32Array(3 * manifest.image.size ** 2);
  const feed = assembleRows([{ image: { pixels: px }, rows: [[0, 5, 2]] }, { image: { pixels: px }, rows: [[0, 5, 6, 7, 2]] }], manifest);
  assert.equal(feed.textLength, 5);
  assert.deepEqual([...feed.inputIds].map(Number), [0, 5, 2, 1, 1, 0, 5, 6, 7, 2]);
  assert.deepEqual([...feed.decoderIds].map(Number), [0, 0], "prompt type none: the decoder starts from <s>");
});
