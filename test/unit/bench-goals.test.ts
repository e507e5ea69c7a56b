/** The bench's goals: met follows the direction, later entries replace earlier ones, the README block renders them. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GoalBoard, goal, goalsFromRows } from "../../bench/goals.ts";
import { newestFullRun, perfBlock } from "../../scripts/gen-perf-table.ts";

test("bench goals - met follows 'better', NaN is never met, a later goal with the same id wins", () => {
  assert.equal(goal("a", 0.98, 0.97, "higher").met, true);
  assert.equal(goal("a", 0.96, 0.97, "higher").met, false);
  assert.equal(goal("b", 12, 12, "lower").met, true);
  assert.equal(goal("b", 12.1, 12, "lower").met, false);
  assert.equal(goal("c", Number.NaN, 1, "lower").met, false);
  const board = new GoalBoard();
  board.add(goal("x", 1, 2, "lower"), undefined, goal("y", 1, 2, "lower"), goal("x", 3, 2, "lower"));
  assert.deepEqual(board.list().map((g) => [g.id, g.value]), [["x", 3], ["y", 1]]);
});

test("bench goals - large ratios at batch 1 and 2 and the bus cost come from the derived rows", () => {
  const goals = goalsFromRows(
    [{ model: "tiny", maxBatch: 1, ratio: 0.1 }, { model: "OFA-large shape", maxBatch: 1, ratio: 0.98 }, { model: "OFA-large shape", maxBatch: 2, ratio: 0.93 }],
    [{ what: "bus + protocol + batching (worker process, log info)", cpuMsPerVerdict: 0.3 }, { what: "bus + protocol + batching (worker process, log warn)", cpuMsPerVerdict: 0.1 }],
  );
  assert.deepEqual(goals.map((g) => [g.id, g.value, g.met]), [["large.ratio.batch1", 0.98, true], ["large.ratio.batch2", 0.93, false], ["bus.cpu_ms_per_verdict", 0.3, false]]);
});

test("perf table - the newest full run with goals is used; quick runs and runs without goals are skipped", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "ofa-perf-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "2026-01-01T00-00-00-000Z.json"), JSON.stringify({ goals: [goal("old", 1, 1, "lower")] }));
  await writeFile(join(dir, "2026-01-02T00-00-00-000Z.json"), JSON.stringify({ goals: [goal("preprocess.total_ms.1024x768", 7.5, 12, "lower")] }));
  await writeFile(join(dir, "2026-01-03T00-00-00-000Z.json"), JSON.stringify({ meta: {} }));
  await writeFile(join(dir, "2026-01-04T00-00-00-000Z-quick.json"), JSON.stringify({ goals: [goal("quick", 1, 1, "lower")] }));
  const run = newestFullRun(dir);
  assert.equal(run?.file, "2026-01-02T00-00-00-000Z.json");
  const block = perfBlock(run);
  assert.match(block, /\| `preprocess\.total_ms\.1024x768` \| 7\.50 \| ≤ 12\.00? \| met \|/);
});
