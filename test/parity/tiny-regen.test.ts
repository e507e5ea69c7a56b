/**
 * The committed models/tiny is reproducible: re-exporting `--config tiny --seed 0` into a temp dir gives
 * the same tokenizer, the same manifest contract and, on fixed inputs, logits equal to the committed
 * model.onnx within 1e-6 on onnxruntime-node (the ONNX bytes need not be identical across torch builds), and
 * its model.int8.onnx (npm run model:tiny exports with --int8) logits close to the committed one's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { maxAbsDiff, reference, TINY_DIR, runLogitsCase, type LogitsCase } from "./reference.ts";

async function logitsOf(modelPath: string, cases: LogitsCase[]): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
  try {
    const out: Float32Array[] = [];
    for (const c of cases) {
      const logits = await runLogitsCase(session, c);
      out.push(logits.data as Float32Array);
    }
    return out;
  } finally {
    await session.release();
  }
}

test("parity - regenerating the tiny model from seed 0 reproduces the committed one", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "ofa-tiny-regen-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await reference({ cmd: "regen", config: "tiny", seed: 0, out: dir });
  const readJson = async (d: string, f: string) => JSON.parse(await readFile(join(d, f), "utf8"));
  assert.deepEqual(await readJson(dir, "tokenizer.json"), await readJson(TINY_DIR, "tokenizer.json"));
  const [fresh, committed] = [await readJson(dir, "manifest.json"), await readJson(TINY_DIR, "manifest.json")];
  delete fresh.version; // carries the ONNX file hash
  delete committed.version;
  assert.deepEqual(fresh, committed);
  const { cases } = await reference<{ cases: LogitsCase[] }>({ cmd: "logits", dir: TINY_DIR, config: "tiny", seed: 0 });
  const a = await logitsOf(join(dir, "model.onnx"), cases);
  const b = await logitsOf(join(TINY_DIR, "model.onnx"), cases);
  a.forEach((row, i) => {
    const diff = maxAbsDiff(row, b[i]!);
    assert.ok(diff <= 1e-6, `case ${i}: regenerated vs committed differ by ${diff}`);
  });
  // A weight at a rounding boundary may land one int8 step apart when fp32 differs in the last bit: allow a little.
  const c = await logitsOf(join(dir, "model.int8.onnx"), cases);
  const d = await logitsOf(join(TINY_DIR, "model.int8.onnx"), cases);
  c.forEach((row, i) => {
    const diff = maxAbsDiff(row, d[i]!);
    t.diagnostic(`case ${i}: int8 regenerated vs committed ${diff.toExponential(2)}`);
    assert.ok(diff <= 1e-3, `case ${i}: regenerated vs committed int8 differ by ${diff}`);
  });
});
