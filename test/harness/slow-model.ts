/** Generates the slow test-only model (test/fixtures/slow_model.py) into a temp dir; needs Debian's python3-onnx. */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TINY_MODEL } from "./service.ts";

const SCRIPT = fileURLToPath(new URL("../fixtures/slow_model.py", import.meta.url));

/** `steps` 512×512 matmuls per request: about 3 ms each on one core of these machines. */
export function makeSlowModel(steps: number): string {
  const dir = mkdtempSync(join(tmpdir(), "ofa-slow-model-"));
  execFileSync("/usr/bin/python3", [SCRIPT, dir, String(steps), TINY_MODEL], { stdio: "inherit" });
  return dir;
}
