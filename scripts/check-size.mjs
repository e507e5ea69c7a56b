// The size rule (README, Development): no source file over 400 lines; the hub files of comparable projects grew to 1–3k lines and are their hardest parts to read.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const LIMIT = 400;
const roots = ["src", "packages/client/src", "loadgen", "bench", "test", "scripts"];
const tooLong = [];
function walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.(ts|mjs|js)$/.test(name)) {
      const lines = readFileSync(path, "utf8").split("\n").length;
      if (lines > LIMIT) tooLong.push(`${path}: ${lines} lines`);
    }
  }
}
roots.forEach(walk);
if (tooLong.length > 0) {
  console.error(`files over ${LIMIT} lines:\n  ${tooLong.join("\n  ")}`);
  process.exit(1);
}
