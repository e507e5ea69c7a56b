import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidVerdictCode, runLoad } from "../../loadgen/index.ts";
import type { Behaviour } from "./fixtures/responder.ts";
import { SMALL_IMAGES, startStack } from "./fixtures/stack.ts";

const CYCLE: readonly Behaviour[] = ["ok", "error", "wrong-id", "bad-scores", "silent"];

test("loadgen accounting - every verdict is validated and every outcome counted by code; nothing is dropped", async (t) => {
  const { url, responder } = await startStack(t, { serviceMs: 5, behaviour: (i) => CYCLE[i % CYCLE.length]! });
  // 20 requests: four of each behaviour. Silent ones time out after 600 ms; so do those answered with another request's
  // id, which the SDK does not accept as their verdict (a reply must carry the request's own id) and keeps waiting.
  const report = await runLoad({ natsUrl: url, ratePerSec: 20, durationMs: 1000, timeoutMs: 600, images: SMALL_IMAGES });
  const a = report.accounting;

  assert.equal(responder.received, 20);
  assert.deepEqual({ sent: a.sent, ok: a.ok, errored: a.errored, timedOut: a.timedOut, inFlight: a.inFlightAtEnd }, { sent: 20, ok: 4, errored: 8, timedOut: 8, inFlight: 0 });
  assert.ok(a.holds);
  assert.deepEqual(report.summary.counts.byCode, {
    OFA_ERR_IMAGE_DECODE: 4,
    [InvalidVerdictCode.SCORES]: 4,
    OFA_ERR_TIMEOUT: 8,
  });
  assert.equal(report.summary.errorRate, 16 / 20);
  assert.deepEqual(report.summary.counts.labels, { yes: 4, no: 0, maybe: 0 });
});
