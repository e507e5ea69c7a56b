/**
 * The fast resize path: the committed .wasm is the build of its .wat; the wasm passes equal the TypeScript
 * passes (the parity suite ties both to Pillow) on many odd sizes, up and down, including ones whose rows are
 * not a multiple of 16 bytes; the preprocessing pool returns each request's own pixels whichever thread ran it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
// @ts-expect-error: a plain .mjs build script without type declarations
import { compileWat } from "../../scripts/build-wasm.mjs";
import { normalise } from "../../src/model/normalise.ts";
import { pilBicubicResize } from "../../src/model/pil-resample.ts";
import { PillowResizer } from "../../src/model/resizer.ts";
import { WasmResampler } from "../../src/model/wasm-resample.ts";
import { chooseModelDefaults, LARGE_MODEL_BYTES } from "../../src/supervisor/model-defaults.ts";

function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) out[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24;
  return out;
}

test("resize - the committed resample.wasm is the wabt build of resample.wat", async () => {
  const wat = new URL("../../src/model/wasm/resample.wat", import.meta.url);
  const built: Buffer = await compileWat(wat.pathname);
  assert.ok(built.equals(readFileSync(new URL("../../src/model/wasm/resample.wasm", import.meta.url))), "run npm run build:wasm");
});

test("resize - wasm SIMD passes equal the TypeScript passes on odd sizes, up and down", () => {
  const wasm = new WasmResampler();
  const cases: [number, number, number][] = [[1, 1, 7], [3, 500, 17], [500, 3, 17], [97, 95, 96], [211, 33, 50], [33, 211, 50], [640, 480, 224], [1000, 17, 480], [5, 5, 5]];
  for (const [w, h, size] of cases) {
    const rgb = noise(w * h * 3, w * 31 + h);
    const a = wasm.resizeView(rgb, w, h, size);
    const b = pilBicubicResize(rgb, w, h, size);
    assert.equal(a.length, size * size * 3);
    assert.deepEqual(Buffer.from(a), Buffer.from(b), `${w}x${h} -> ${size}`);
  }
});

test("resize - the preprocessing pool answers every request with its own pixels, across threads", async (t) => {
  const pool = new PillowResizer(2);
  t.after(() => pool.close());
  const spec = { size: 32, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
  const inputs = Array.from({ length: 12 }, (_, i) => ({ w: 40 + i * 7, h: 30 + i * 3, rgb: noise((40 + i * 7) * (30 + i * 3) * 3, i) }));
  const want = inputs.map((x) => normalise(pilBicubicResize(x.rgb, x.w, x.h, 32), spec));
  const got = await Promise.all(inputs.map((x) => pool.resizeNormalise(Uint8Array.from(x.rgb), x.w, x.h, spec)));
  for (const [i, g] of got.entries()) assert.deepEqual(Array.from(g), Array.from(want[i]!), `request ${i}`);
  assert.equal(pool.queued, 0);
});

test("resize - normalise gives (p/255 - mean) / std in CHW order", () => {
  // One pixel (0, 255, 51): R plane, G plane, B plane.
  const out = normalise(Uint8Array.from([0, 255, 51]), { size: 1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
  assert.deepEqual(Array.from(out), [-1, 1, Math.fround(51 / 127.5 - 1)]);
});

test("model defaults - batch limit and preprocessing threads follow the model and the provider; explicit values win", () => {
  const base = { maxBatch: 0, preprocessThreads: 0, cores: 2, workers: 1 } as const;
  const large = chooseModelDefaults({ ...base, executionProvider: "cpu", modelBytes: 1.9e9 });
  assert.equal(large.maxBatch, 2);
  assert.equal(large.preprocessThreads, 1);
  assert.match(large.why.join("\n"), /max batch 2: cpu and a large model/);
  assert.equal(chooseModelDefaults({ ...base, executionProvider: "cpu", modelBytes: 850_000 }).maxBatch, 8);
  assert.equal(chooseModelDefaults({ ...base, executionProvider: "cpu", modelBytes: LARGE_MODEL_BYTES - 1 }).maxBatch, 8);
  const gpu = chooseModelDefaults({ ...base, cores: 16, executionProvider: "cuda", modelBytes: 1.9e9 });
  assert.deepEqual([gpu.maxBatch, gpu.preprocessThreads], [16, 15]);
  assert.equal(chooseModelDefaults({ ...base, cores: 16, workers: 2, executionProvider: "cuda", modelBytes: 1 }).preprocessThreads, 7);
  assert.equal(chooseModelDefaults({ ...base, cores: 16, executionProvider: "cpu", modelBytes: 1 }).preprocessThreads, 4);
  const explicit = chooseModelDefaults({ ...base, maxBatch: 5, preprocessThreads: 3, executionProvider: "cpu", modelBytes: 1.9e9 });
  assert.deepEqual([explicit.maxBatch, explicit.preprocessThreads, explicit.why.length], [5, 3, 0]);
});
