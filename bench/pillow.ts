/**
 * Runs bench/pillow_probe.py under Debian's python3 (python3-pil, numpy): the Pillow side of the preprocessing
 * comparisons, on the same decoded pixels or the same JPEG bytes the TypeScript side gets.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

export const PILLOW_PYTHON = process.env.OFA_PARITY_PYTHON ?? "/usr/bin/python3";
const PROBE = fileURLToPath(new URL("./pillow_probe.py", import.meta.url));

export interface PillowTiming {
  readonly medianMs: number;
  readonly bestMs: number;
  readonly cpuMedianMs: number;
}

export interface ResizeCase {
  readonly in: string;
  readonly out: string;
  readonly w: number;
  readonly h: number;
  readonly size: number;
  readonly reps: number;
}

export interface PillowPreprocess {
  readonly decode: PillowTiming;
  readonly resize: PillowTiming;
  readonly normalise: PillowTiming;
  readonly total: PillowTiming;
  readonly pillow: string;
}

function pillowProbe<T>(request: Record<string, unknown>, timeoutMs = 300_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = execFile(PILLOW_PYTHON, [PROBE], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`pillow probe '${String(request.cmd)}' failed: ${err.message}\n${stderr.slice(-2000)}`));
      else resolve(JSON.parse(stdout) as T);
    });
    child.stdin!.end(JSON.stringify(request));
  });
}

export function pillowResize(cases: readonly ResizeCase[]): Promise<{ cases: PillowTiming[]; pillow: string }> {
  return pillowProbe({ cmd: "resize", cases });
}

export function pillowPreprocess(jpeg: string, size: number, reps: number): Promise<PillowPreprocess> {
  return pillowProbe({ cmd: "preprocess", jpeg, size, reps });
}
