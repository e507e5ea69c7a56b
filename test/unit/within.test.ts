import { test } from "node:test";
import assert from "node:assert/strict";
import { within } from "../../src/runtime/within.ts";

test("within - true when the work settles in time, rejected or not", async () => {
  assert.equal(await within(Promise.resolve(1), 1_000), true);
  assert.equal(await within(Promise.reject(new Error("broker gone")), 1_000), true);
});

test("within - false once the time runs out on work that never settles", async () => {
  const started = Date.now();
  assert.equal(await within(new Promise(() => undefined), 50), false);
  assert.ok(Date.now() - started >= 45, "waited for the bound");
});
