import { test } from "node:test";
import assert from "node:assert/strict";
import { MALLOC_TUNING, tuneMalloc } from "../../src/runtime/malloc.ts";

test("malloc tuning - sets what is missing or empty, keeps the operator's values, says what it set", () => {
  const env: NodeJS.ProcessEnv = { MALLOC_ARENA_MAX: "8", MALLOC_TRIM_THRESHOLD_: "" };
  const set = tuneMalloc(env);
  assert.equal(env.MALLOC_ARENA_MAX, "8");
  assert.equal(env.MALLOC_MMAP_THRESHOLD_, MALLOC_TUNING.MALLOC_MMAP_THRESHOLD_);
  assert.equal(env.MALLOC_TRIM_THRESHOLD_, MALLOC_TUNING.MALLOC_TRIM_THRESHOLD_);
  assert.deepEqual(set, [`MALLOC_MMAP_THRESHOLD_=${MALLOC_TUNING.MALLOC_MMAP_THRESHOLD_}`, `MALLOC_TRIM_THRESHOLD_=${MALLOC_TUNING.MALLOC_TRIM_THRESHOLD_}`]);
  assert.deepEqual(tuneMalloc(env), [], "a second call changes nothing");
});

test("malloc tuning - thresholds are fixed sizes glibc accepts: mmap under its 32 MiB cap, trim above it", () => {
  const mmap = Number(MALLOC_TUNING.MALLOC_MMAP_THRESHOLD_);
  assert.ok(Number.isInteger(mmap) && mmap > 0 && mmap <= 32 * 1024 * 1024);
  assert.ok(Number(MALLOC_TUNING.MALLOC_TRIM_THRESHOLD_) > mmap);
});
