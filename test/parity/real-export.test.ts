/**
 * The `--config real` path without the real weights: stand-in ModelScope (config.json, configuration.json,
 * `model.`-prefixed pytorch_model.bin, answer2label) and fairseq (.pt with fairseq names and task args)
 * checkpoints of one small random OFA (models/export/fake_checkpoint.py) are exported; the manifests must
 * carry the checkpoint's settings, the ONNX must match torch within 1e-4 on onnxruntime-node, and a
 * checkpoint with a missing and an unexpected key must be refused with both keys named.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { loadManifest } from "../../src/model/manifest.ts";
import { maxAbsDiff, reference, runLogitsCase, type LogitsCase } from "./reference.ts";

interface Exported {
  dir: string;
  cases: LogitsCase[];
}

test("parity - real-checkpoint export (ModelScope dir and fairseq .pt) loads strictly and matches torch", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "ofa-real-export-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const r = await reference<{ modelscope: Exported; fairseq: Exported; brokenError: string | null }>(
    { cmd: "fakereal", root }, 240_000);

  const ms = (await loadManifest(r.modelscope.dir)).manifest;
  assert.equal(ms.meaningful, true);
  assert.equal(ms.prompt.type, "prev_output", "configuration.json model.prompt_type");
  assert.equal(ms.text.maxSourceTokens, 80, "configuration.json model.max_src_length");
  assert.equal(ms.image.size, 96, "configuration.json model.patch_image_size");
  assert.deepEqual(ms.answers.map((a) => a.label), ["yes", "no", "maybe"], "answer2label key order");
  const fs = (await loadManifest(r.fairseq.dir)).manifest;
  assert.equal(fs.prompt.type, "prev_output", "fairseq task args");
  assert.deepEqual(fs.answers.map((a) => a.label), ["no", "yes", "maybe"], "OFA default order without answer2label");

  for (const exp of [r.modelscope, r.fairseq]) {
    const session = await ort.InferenceSession.create(join(exp.dir, "model.onnx"), { intraOpNumThreads: 2 });
    try {
      for (const c of exp.cases) {
        const logits = await runLogitsCase(session, c);
        const diff = maxAbsDiff(logits.data as Float32Array, c.logits!.flat());
        assert.ok(diff <= 1e-4, `${exp.dir}: max |ort - torch| ${diff}`);
      }
    } finally {
      await session.release();
    }
  }
  assert.ok(r.brokenError, "a mismatched checkpoint must be refused");
  assert.match(r.brokenError, /missing: encoder\.layers\.1\.fc2\.bias/);
  assert.match(r.brokenError, /unexpected: encoder\.extra_head\.weight/);
});
