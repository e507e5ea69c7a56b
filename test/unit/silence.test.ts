import { test } from "node:test";
import assert from "node:assert/strict";
import { REPLACE_AFTER, judgeSilence } from "../../src/supervisor/silence.ts";
import { heartbeatEveryMs } from "../../src/runtime/bounds.ts";

test("silence - a worker is judged by the time since its last heartbeat", () => {
  assert.equal(judgeSilence(undefined, 1_000_000, 1_000), "heard", "not judged before its first heartbeat");
  assert.equal(judgeSilence(10_000, 11_000, 1_000), "heard", "exactly the bound is still heard");
  assert.equal(judgeSilence(10_000, 11_001, 1_000), "silent");
  assert.equal(judgeSilence(10_000, 10_000 + REPLACE_AFTER * 1_000, 1_000), "silent");
  assert.equal(judgeSilence(10_000, 10_001 + REPLACE_AFTER * 1_000, 1_000), "replace");
});

test("silence - heartbeats come several times per bound, and the supervisor looks as often", () => {
  for (const bound of [500, 1_000, 10_000, 600_000]) {
    assert.ok(heartbeatEveryMs(bound) * 4 <= bound, `${bound}: at least four heartbeats per bound`);
    assert.ok(heartbeatEveryMs(bound) >= 100 && heartbeatEveryMs(bound) <= 1_000);
  }
});
