#!/usr/bin/env node
// Raw onnxruntime-node figures for a model directory: session load time, single-request latency,
// peak RSS; optionally the max |ORT - torch| against a parity_ref.py `logits` answer.
//   node models/export/ort_bench.mjs DIR [--runs N] [--threads T] [--batch B] [--fp16] [--check logits.json]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ort from "onnxruntime-node";

const args = process.argv.slice(2);
const dir = args[0];
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const runs = Number(opt("--runs", 3));
const threads = Number(opt("--threads", 2));
const batch = Number(opt("--batch", 1));
const check = opt("--check", undefined);
const precision = args.includes("--fp16") ? "fp16" : "fp32";

const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
const rssMb = () => (process.resourceUsage().maxRSS / 1024).toFixed(0);
const t0 = performance.now();
if (!manifest.onnx[precision]) throw new Error(`${dir}: manifest has no ${precision} file`);
const session = await ort.InferenceSession.create(join(dir, manifest.onnx[precision]), {
  intraOpNumThreads: threads, interOpNumThreads: 1,
});
const loadMs = performance.now() - t0;
console.log(`${manifest.name} ${precision}: load ${(loadMs / 1000).toFixed(2)} s, peak RSS ${rssMb()} MB`);

const int64 = (rows) => new ort.Tensor("int64", BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);
const f32 = (b64, dims) => {
  const buf = Buffer.from(b64, "base64");
  return new ort.Tensor("float32", new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)), dims);
};

if (check) {
  let worst = 0;
  for (const c of JSON.parse(readFileSync(check, "utf8")).cases) {
    const out = await session.run({ input_ids: int64(c.inputIds), patch_images: f32(c.patchImages, c.imageShape),
      decoder_input_ids: int64(c.decoderInputIds) });
    const got = out[manifest.output].data;
    c.logits.flat().forEach((v, i) => { worst = Math.max(worst, Math.abs(v - got[i])); });
  }
  console.log(`max |ort - torch| ${worst.toExponential(2)}`);
}

// One request: a 14-token prompt (the size of the example in docs/ofa-ve.md §3), decoder [bos] or prompt minus EOS.
const size = manifest.image.size;
const ids = Array.from({ length: 14 }, (_, i) => (i === 0 ? 0 : i === 13 ? 2 : 4 + i));
const dec = manifest.prompt.type === "none" ? [0] : ids.slice(0, -1);
const feed = {
  [manifest.inputs.inputIds]: int64(Array.from({ length: batch }, () => ids)),
  [manifest.inputs.patchImages]: new ort.Tensor("float32", new Float32Array(batch * 3 * size * size).fill(0.1), [batch, 3, size, size]),
  [manifest.inputs.decoderInputIds]: int64(Array.from({ length: batch }, () => dec)),
};
const times = [];
for (let i = 0; i < runs; i++) {
  const s = performance.now();
  await session.run(feed);
  times.push(performance.now() - s);
}
times.sort((a, b) => a - b);
console.log(`batch ${batch}, ${threads} threads: runs ${times.map((t) => (t / 1000).toFixed(2)).join(", ")} s; ` +
  `median ${(times[Math.floor(times.length / 2)] / 1000).toFixed(2)} s; peak RSS ${rssMb()} MB`);
await session.release();
