/**
 * Parity: verdict decoding. TS answerScores (src/model/answer-scores.ts) vs the reference decoding
 * (softmax over the answer logits, label = argmax, score = its probability; docs/ofa-ve.md §5)
 * on the same logits: hand-picked rows and the tiny model's real outputs for prompts with and
 * without a premise. Labels equal; probabilities within 1e-6.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadManifest } from "../../src/model/manifest.ts";
import { answerScores } from "../../src/model/answer-scores.ts";
import { reference, TINY_DIR, type LogitsCase } from "./reference.ts";

interface RefVerdict {
  label: string;
  score: number;
  probs: number[];
}

const HAND_PICKED = [
  [0, 0, 0],          // a three-way tie: the first column wins in both
  [1, 5, -2],
  [-3, -3.5, 2],
  [1000, 999, -1000], // large logits: max-shifted softmax, no overflow
  [-1e4, -1e4 + 1e-3, -1e4 - 5],
  [2.5, 2.5, 1],      // a two-way tie
];

/** Logits reach answerScores as float32 (the ONNX output), so the reference sees the same rounded values. */
async function compare(rows: number[][]): Promise<void> {
  const logits = rows.map((r) => Array.from(Float32Array.from(r)));
  const { manifest } = await loadManifest(TINY_DIR);
  const ref = await reference<{ verdicts: RefVerdict[] }>({ cmd: "decode", logits, answers: manifest.answers });
  logits.forEach((row, i) => {
    const want = ref.verdicts[i]!;
    const got = answerScores(Float32Array.from(row), manifest.answers);
    assert.equal(got.label, want.label, `row ${i} ${JSON.stringify(row)}`);
    manifest.answers.forEach((a, k) => {
      const diff = Math.abs(got.scores[a.label] - want.probs[k]!);
      assert.ok(diff <= 1e-6, `row ${i} ${a.label}: ${got.scores[a.label]} vs ${want.probs[k]}`);
    });
    assert.ok(Math.abs(got.scores[got.label] - want.score) <= 1e-6);
  });
}

test("parity - answerScores equals the reference softmax/argmax on hand-picked logits", async () => {
  await compare(HAND_PICKED);
});

test("parity - answerScores equals the reference on tiny-model logits, with and without premise", async () => {
  // default cases: [0] hypothesis-only rows, [1] a premise row + padded batch (prev_output), [2] long premise row
  const { cases } = await reference<{ cases: LogitsCase[] }>({ cmd: "logits", dir: TINY_DIR, config: "tiny", seed: 0 });
  const rows = cases.flatMap((c) => c.logits!);
  assert.ok(rows.length >= 6);
  await compare(rows);
});
