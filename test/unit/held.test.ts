/** Heartbeats for held requests (src/consumer/held.ts): every held message gets working() each interval, settled ones none. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { HeldSet } from "../../src/consumer/held.ts";
import { jobFromMessage } from "../../src/consumer/job.ts";
import { fakeMsg } from "./consumer-fakes.ts";

test("held set - every held request is heartbeated each interval until it is settled", (t) => {
  t.mock.timers.enable({ apis: ["setInterval"] });
  const held = new HeldSet(100, () => undefined);
  const a = fakeMsg();
  const b = fakeMsg();
  const jobA = jobFromMessage(a.msg, "interactive", 0, []);
  held.add(jobA);
  held.add(jobFromMessage(b.msg, "bulk", 0, []));
  held.startHeartbeats();
  t.mock.timers.tick(99);
  assert.equal(a.working(), 0);
  t.mock.timers.tick(1);
  assert.deepEqual([a.working(), b.working()], [1, 1]);
  t.mock.timers.tick(200);
  assert.deepEqual([a.working(), b.working()], [3, 3]);
  held.delete(jobA);
  t.mock.timers.tick(300);
  assert.deepEqual([a.working(), b.working()], [3, 6], "a settled request is no longer heartbeated");
  held.stopHeartbeats();
  t.mock.timers.tick(1_000);
  assert.equal(b.working(), 6, "no heartbeat after stopHeartbeats()");
  assert.deepEqual(a.settlements(), [], "heartbeats never settle anything");
});

test("held set - waitEmpty resolves when the last request is settled; handBack naks what is left", async () => {
  const held = new HeldSet(60_000, () => undefined);
  const a = fakeMsg();
  const b = fakeMsg();
  const jobA = jobFromMessage(a.msg, "interactive", 0, []);
  const jobB = jobFromMessage(b.msg, "bulk", 0, []);
  held.add(jobA);
  held.add(jobB);
  assert.equal(await held.waitEmpty(10), false, "two held: times out");
  held.handBack();
  assert.deepEqual([a.settlements(), b.settlements()], [["nak"], ["nak"]]);
  const emptied = held.waitEmpty(60_000);
  assert.equal(held.delete(jobA), true);
  assert.equal(held.delete(jobA), false, "a second delete of the same request does nothing");
  held.delete(jobB);
  assert.equal(await emptied, true);
});

test("held set - reports the ack subjects of what it holds, once per tick of changes", async () => {
  const reports: string[][] = [];
  const held = new HeldSet(60_000, () => undefined, (acks) => reports.push(acks));
  const withReply = (reply: string) => {
    const m = fakeMsg();
    Object.assign(m.msg, { reply });
    return jobFromMessage(m.msg, "interactive", 0, []);
  };
  const a = withReply("$JS.ACK.OFA_VE_REQ.ofa-ve-interactive.1.7.7.1.0");
  const b = withReply("$JS.ACK.OFA_VE_REQ.ofa-ve-interactive.1.8.8.1.0");
  held.add(a);
  held.add(b);
  held.add(withReply("_INBOX.not-an-ack-subject"));
  assert.deepEqual(reports, [], "reported in the next tick, not per change");
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(reports, [["$JS.ACK.OFA_VE_REQ.ofa-ve-interactive.1.7.7.1.0", "$JS.ACK.OFA_VE_REQ.ofa-ve-interactive.1.8.8.1.0"]], "one report of the two ack subjects (a reply that is no ack subject is left out)");
  held.delete(a);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(reports.at(-1), ["$JS.ACK.OFA_VE_REQ.ofa-ve-interactive.1.8.8.1.0"], "a settled request leaves the report");
});
