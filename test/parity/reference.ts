/**
 * Talks to the Python reference (models/export/parity_ref.py) for the parity suite: one JSON request
 * on stdin, one JSON answer on stdout. The reference needs Debian's python3-torch; CI installs it, so a
 * missing torch FAILS the suite with the install command instead of skipping it.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ort from "onnxruntime-node";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const TINY_DIR = join(REPO_ROOT, "models/tiny");
/** Debian's interpreter: the one python3-torch installs into (a pyenv python3 on PATH has no torch). */
export const PYTHON = process.env.OFA_PARITY_PYTHON ?? "/usr/bin/python3";
const SCRIPT = join(REPO_ROOT, "models/export/parity_ref.py");
const NO_TORCH_EXIT = 3;

/** Runs one reference command; rejects with the reference's stderr on any failure. */
export async function reference<T>(request: Record<string, unknown>, timeoutMs = 120_000): Promise<T> {
  if (!existsSync(PYTHON)) throw new Error(`parity: ${PYTHON} not found; install python3 (Debian) and python3-torch`);
  const child = spawn(PYTHON, [SCRIPT], {
    cwd: REPO_ROOT,
    env: { ...process.env, OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? "2" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (b: Buffer) => out.push(b));
  child.stderr.on("data", (b: Buffer) => err.push(b));
  child.stdin.end(JSON.stringify(request));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((res, rej) => {
    child.on("error", rej);
    child.on("close", res);
  }).finally(() => clearTimeout(timer));
  const stderr = Buffer.concat(err).toString("utf8");
  if (code === NO_TORCH_EXIT) {
    throw new Error(`parity reference needs torch: ${stderr.trim()}\n` +
      "CI: apt-get install -y python3-torch python3-onnx libopenblas0-pthread python3-pil");
  }
  if (code !== 0) throw new Error(`parity reference '${String(request.cmd)}' exited ${code}:\n${stderr.slice(-4000)}`);
  return JSON.parse(Buffer.concat(out).toString("utf8")) as T;
}

/** Runs one of models/export's Python unittest files; resolves with its exit code and output (the last 4000 chars). */
export async function pythonUnitTests(file: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(PYTHON, [join(REPO_ROOT, "models/export", file)], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (b: Buffer) => (output += b.toString()));
  child.stderr.on("data", (b: Buffer) => (output += b.toString()));
  const code = await new Promise<number | null>((res, rej) => {
    child.on("error", rej);
    child.on("close", res);
  });
  return { code, output: output.slice(-4000) };
}

export function fromBase64F32(b64: string): Float32Array {
  const buf = Buffer.from(b64, "base64");
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Float32Array(copy.buffer);
}

export function toBase64F32(data: Float32Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/** One forward case as exchanged with the reference: padded id rows, images as base64 float32. */
export interface LogitsCase {
  inputIds: number[][];
  decoderInputIds: number[][];
  patchImages: string;
  imageShape: [number, number, number, number];
  logits?: number[][];
}

export function int64Rows(rows: number[][]): { data: BigInt64Array; dims: [number, number] } {
  return { data: BigInt64Array.from(rows.flat().map((v) => BigInt(v))), dims: [rows.length, rows[0]!.length] };
}

/** Runs one reference case through an onnxruntime session with the contract's input names; returns answer_logits. */
export async function runLogitsCase(session: ort.InferenceSession, c: LogitsCase): Promise<ort.Tensor> {
  const ids = int64Rows(c.inputIds);
  const dec = int64Rows(c.decoderInputIds);
  const out = await session.run({
    input_ids: new ort.Tensor("int64", ids.data, ids.dims),
    patch_images: new ort.Tensor("float32", fromBase64F32(c.patchImages), c.imageShape),
    decoder_input_ids: new ort.Tensor("int64", dec.data, dec.dims),
  });
  return out.answer_logits!;
}
