/**
 * Issue 24, found 8: 24 of 40 SIGHUPs arriving during a model rollout were dropped without a log line. Now every
 * SIGHUP is logged, those during a rollout are coalesced into one more rollout after it, and a storm costs no more
 * than that one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startStack } from "../harness/stack.ts";
import { jpeg } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

const SIGNALS = 40;

test("fault - SIGHUPs during a rollout are each logged and coalesced into one more rollout", async (t) => {
  const { service, client } = await startStack(t, { OFA_WORKERS: "1", OFA_CACHE_TTL_MS: "0" });
  const count = (re: RegExp) => service.lines.filter((l) => re.test(l.msg)).length;
  const hangups = () => service.lines.filter((l) => l.signal === "SIGHUP").length;

  service.signal("SIGHUP");
  await until(() => count(/^model rollout started$/) === 1, { name: "the first SIGHUP started a rollout", timeoutMs: 10_000 });
  // One at a time, each waited for by its log line: the kernel merges a signal sent while one is still pending.
  for (let i = 1; i < SIGNALS; i++) {
    service.signal("SIGHUP");
    await until(() => hangups() > i, { name: `SIGHUP ${i + 1} logged`, timeoutMs: 10_000, intervalMs: 5 });
  }
  assert.equal(hangups(), SIGNALS, "one log line for every SIGHUP");
  const coalesced = service.lines.filter((l) => l.signal === "SIGHUP" && /coalesced/.test(l.msg)).length;
  t.diagnostic(`${coalesced} of ${SIGNALS} SIGHUPs arrived during a rollout and were coalesced`);
  assert.ok(coalesced > 0, "some SIGHUPs arrived during the rollout");

  const rollouts = () => count(/^model rollout started$/);
  // The SIGHUPs each rollout saw were answered by one more: a rollout starts after the last SIGHUP, and all end.
  const lastSignalAt = () => service.lines.findLastIndex((l) => l.signal === "SIGHUP");
  const lastStartAt = () => service.lines.findLastIndex((l) => l.msg === "model rollout started");
  await until(() => lastStartAt() > lastSignalAt() && count(/^model rollout done$/) === rollouts(), { name: "a rollout after the last SIGHUP, and every rollout done", timeoutMs: 90_000 });
  assert.ok(rollouts() >= 2 && rollouts() <= 1 + Math.ceil(SIGNALS / 2), `${rollouts()} rollouts for ${SIGNALS} SIGHUPs: coalesced`);
  assert.equal(service.lines.filter((l) => l.msg === "rolling again for the SIGHUPs received during the rollout").length, rollouts() - 1 - (SIGNALS - coalesced - 1), "every rollout after the first was either a SIGHUP arriving idle or one for coalesced SIGHUPs");
  assert.equal(count(/model rollout refused/), 0);
  assert.ok((await client.classify({ image: await jpeg(64, 64, 2), text: "after the storm", timeoutMs: 20_000 })).ok);
});
