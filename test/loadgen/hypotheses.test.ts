/** `--hypotheses N`: every request is a policy list of N texts; run against the real service with the split tiny model. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runLoad } from "../../loadgen/index.ts";
import { inputFromFlags } from "../../loadgen/cli.ts";
import { startStack } from "../harness/stack.ts";
import { SMALL_IMAGES } from "./fixtures/stack.ts";

const SPLIT_MODEL = fileURLToPath(new URL("../../models/tiny-split", import.meta.url));

test("loadgen hypotheses - --hypotheses 4 sends policy lists; each verdict answers 4 hypotheses and the books balance", async (t) => {
  const { ns, service } = await startStack(t, { OFA_MODEL_DIR: SPLIT_MODEL, OFA_CACHE_TTL_MS: "0" });
  const report = await runLoad({ natsUrl: ns.url, users: 2, spawnRatePerSec: 100, durationMs: 2000, timeoutMs: 20_000, images: SMALL_IMAGES, hypotheses: 4, seed: 3 });
  assert.ok(report.accounting.holds, "sent = ok + errored + timed out");
  assert.equal(report.accounting.errored, 0);
  assert.equal(report.accounting.timedOut, 0);
  assert.ok(report.accounting.sent >= 2);
  assert.equal(await service.metric("ofa_batch_size_sum"), 4 * report.accounting.sent, "4 rows ran per request");
  assert.equal(await service.metric('ofa_verdicts_total{outcome="ok",code="none"}'), report.accounting.sent, "one verdict per list");
});

test("loadgen hypotheses - the flag is parsed and checked", () => {
  assert.equal(inputFromFlags({ users: "1", hypotheses: "8" }, "out").hypotheses, 8);
  assert.throws(() => inputFromFlags({ users: "1", hypotheses: "zero" }, "out"), /--hypotheses/);
});
