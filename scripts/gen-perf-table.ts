/**
 * The README's goals table from the newest full benchmark run (bench/results/<timestamp>.json with a `goals`
 * array; quick runs are skipped). Prints it; with --write replaces the block between the README's
 * `<!-- perf-goals:begin -->` and `<!-- perf-goals:end -->` markers.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderGoals, type Goal } from "../bench/goals.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = join(ROOT, "bench/results");
const BEGIN = "<!-- perf-goals:begin -->";
const END = "<!-- perf-goals:end -->";

export function newestFullRun(dir = RESULTS): { file: string; goals: Goal[] } | undefined {
  const files = readdirSync(dir).filter((f) => f.endsWith(".json") && !f.includes("-quick")).sort().reverse();
  for (const file of files) {
    const data = JSON.parse(readFileSync(join(dir, file), "utf8")) as { goals?: Goal[] };
    if (Array.isArray(data.goals)) return { file, goals: data.goals };
  }
  return undefined;
}

export function perfBlock(run: { file: string; goals: Goal[] } | undefined): string {
  if (!run) return "No full benchmark run with goals yet: run `npm run bench`, then `npm run perf-table`.";
  return `Goals of the newest full run, \`bench/results/${run.file}\`:\n\n${renderGoals(run.goals).replace(/^## Goals\n\n/, "")}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const block = perfBlock(newestFullRun());
  if (process.argv.includes("--write")) {
    const path = join(ROOT, "README.md");
    const readme = readFileSync(path, "utf8");
    const a = readme.indexOf(BEGIN);
    const b = readme.indexOf(END);
    if (a < 0 || b < a) throw new Error(`README.md has no ${BEGIN} … ${END} block`);
    writeFileSync(path, `${readme.slice(0, a + BEGIN.length)}\n${block.trim()}\n${readme.slice(b)}`);
  } else {
    process.stdout.write(`${block}\n`);
  }
}
