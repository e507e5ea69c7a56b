/**
 * Preprocessing side by side with the reference implementation, in one run on the same machine: the default
 * resize against Pillow's C (Debian python3-pil) on the same decoded pixels, per input size; decode + normalise
 * against PIL decode + numpy; and the whole default preprocessing of a photo-like 1024×768 JPEG in CPU ms
 * (process CPU, so the decode and pool threads count).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { PillowResizer, WasmResampler, decodeRgb, normalise, preprocessImage } from "../src/model/index.ts";
import { goal, type Goal } from "./goals.ts";
import { pillowPreprocess, pillowResize } from "./pillow.ts";

const RESIZE_SIZES: readonly [number, number][] = [[640, 480], [1024, 768], [4032, 3024], [37, 1500], [480, 480]];
const OUT = 480;
const SPEC = { size: OUT, resize: "bicubic" as const, mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.5, 0.5, 0.5] as [number, number, number] };
const LIMITS = { maxImagePixels: 40_000_000 };

interface ResizeRow {
  readonly size: string;
  readonly oursMs: number;
  readonly pillowMs: number;
  readonly ratio: number;
}

export interface PreprocessResults {
  readonly resize: readonly ResizeRow[];
  readonly jpegBytes: number;
  readonly decodeNormalise: { readonly oursMs: number; readonly pilNumpyMs: number; readonly ratio: number };
  readonly totalCpuMs: number;
  readonly totalWallMs: number;
  readonly pillowTotalMs: number;
  readonly pillow: string;
  readonly goals: readonly Goal[];
}

/** Photo-like pixels: gradients plus noise (as bench/fixtures.ts), at any size. */
function photoPixels(w: number, h: number, seed: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 24;
  for (let y = 0, o = 0; y < h; y++) {
    for (let x = 0; x < w; x++, o += 3) {
      out[o] = 128 + 100 * Math.sin(x / 23 + seed) + rnd();
      out[o + 1] = 128 + 100 * Math.cos(y / 31 - seed) + rnd();
      out[o + 2] = 128 + 80 * Math.sin((x + y) / 41 + seed) + rnd();
    }
  }
  return out;
}

function medianOf(reps: number, run: () => unknown): number {
  run(); // warm up: JIT, coefficient tables, wasm memory
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[t.length >> 1]!;
}

async function medianOfAsync(reps: number, run: () => Promise<unknown>): Promise<number> {
  await run();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[t.length >> 1]!;
}

async function compareResize(dir: string, quick: boolean): Promise<{ rows: ResizeRow[]; pillow: string }> {
  const wasm = new WasmResampler();
  const inputs = RESIZE_SIZES.map(([w, h], i) => ({ w, h, rgb: photoPixels(w, h, i + 1), reps: w * h > 4e6 ? (quick ? 3 : 9) : quick ? 10 : 40 }));
  const cases = inputs.map((x, i) => ({ in: join(dir, `r${i}.raw`), out: join(dir, `r${i}.out`), w: x.w, h: x.h, size: OUT, reps: x.reps }));
  for (const [i, x] of inputs.entries()) await writeFile(cases[i]!.in, x.rgb);
  const py = await pillowResize(cases);
  const rows = inputs.map((x, i) => {
    const oursMs = medianOf(x.reps, () => wasm.resizeView(x.rgb, x.w, x.h, OUT));
    const pillowMs = py.cases[i]!.medianMs;
    return { size: `${x.w}x${x.h}`, oursMs, pillowMs, ratio: oursMs / pillowMs };
  });
  return { rows, pillow: py.pillow };
}

export async function measurePreprocess(quick: boolean): Promise<PreprocessResults> {
  const dir = await mkdtemp(join(tmpdir(), "ofa-bench-pre-"));
  try {
    const { rows, pillow } = await compareResize(dir, quick);
    const jpeg = await sharp(Buffer.from(photoPixels(1024, 768, 7)), { raw: { width: 1024, height: 768, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
    const jpegPath = join(dir, "photo.jpg");
    await writeFile(jpegPath, jpeg);
    const reps = quick ? 10 : 40;
    const pil = await pillowPreprocess(jpegPath, OUT, reps);
    const decodeMs = await medianOfAsync(reps, () => decodeRgb(jpeg, LIMITS));
    const small = new WasmResampler().resizeView((await decodeRgb(jpeg, LIMITS)).data, 1024, 768, OUT).slice();
    const normaliseMs = medianOf(reps, () => normalise(small, SPEC));
    const pilNumpyMs = pil.decode.medianMs + pil.normalise.medianMs;
    const pool = new PillowResizer(1);
    try {
      await preprocessImage(jpeg, SPEC, LIMITS, pool);
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      for (let i = 0; i < reps; i++) await preprocessImage(jpeg, SPEC, LIMITS, pool);
      const cpu = process.cpuUsage(cpu0);
      const totalCpuMs = (cpu.user + cpu.system) / 1000 / reps;
      const totalWallMs = (performance.now() - wall0) / reps;
      const goals = [
        ...rows.map((r) => goal(`preprocess.resize_vs_pillow.${r.size}`, r.ratio, 1, "lower")),
        goal("preprocess.decode_normalise_vs_pil.1024x768", (decodeMs + normaliseMs) / pilNumpyMs, 1, "lower"),
        goal("preprocess.total_ms.1024x768", totalCpuMs, 12, "lower"),
      ];
      return {
        resize: rows,
        jpegBytes: jpeg.length,
        decodeNormalise: { oursMs: decodeMs + normaliseMs, pilNumpyMs, ratio: (decodeMs + normaliseMs) / pilNumpyMs },
        totalCpuMs,
        totalWallMs,
        pillowTotalMs: pil.total.medianMs,
        pillow,
        goals,
      };
    } finally {
      await pool.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function renderPreprocess(p: PreprocessResults): string {
  const f = (v: number) => v.toFixed(2);
  return [
    `## Preprocessing vs the reference (Pillow ${p.pillow}, same run)`,
    "",
    "| input → 480² | ofa-entail resize ms | Pillow resize ms | ratio |",
    "|---|---|---|---|",
    ...p.resize.map((r) => `| ${r.size} | ${f(r.oursMs)} | ${f(r.pillowMs)} | ${f(r.ratio)} |`),
    "",
    `1024×768 photo-like JPEG (${(p.jpegBytes / 1024).toFixed(0)} KB): decode + normalise ${f(p.decodeNormalise.oursMs)} ms vs PIL decode + numpy ${f(p.decodeNormalise.pilNumpyMs)} ms (ratio ${f(p.decodeNormalise.ratio)}); ` +
      `whole default preprocessing ${f(p.totalCpuMs)} ms CPU (${f(p.totalWallMs)} ms wall) per image; the Python reference pipeline ${f(p.pillowTotalMs)} ms.`,
    "",
  ].join("\n");
}
