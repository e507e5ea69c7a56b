/**
 * The pure part of handing back a killed worker's unreported deliveries (src/supervisor/unreported.ts): reading a
 * delivery's stream sequence from its ack subject, and which sequences of a consumer's window are nobody's.
 * test/fault/replace-worker.test.ts runs the whole of it against a real nats-server.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ackStreamSeq, unreportedSeqs } from "../../src/supervisor/unreported.ts";

test("unreported - an ack subject names its delivery's stream sequence; anything else names none", () => {
  assert.equal(ackStreamSeq("$JS.ACK.OFA_VE_REQ.ofa-ve-interactive.1.42.17.1796547723132000000.3"), 42);
  assert.equal(ackStreamSeq("$JS.ACK.OFA_VE_REQ.ofa-ve-bulk.2.7.9.1796547723132000000.0"), 7);
  assert.equal(ackStreamSeq("_INBOX.abc.def"), undefined);
  assert.equal(ackStreamSeq("$JS.ACK.short.1.2"), undefined);
  assert.equal(ackStreamSeq("$JS.ACK.S.C.1.x.2.3.0"), undefined);
});

test("unreported - the window above the ack floor, less what was removed and what is held, from the stream's first message", () => {
  assert.deepEqual(unreportedSeqs(10, 20, 1, new Set([12, 13]), new Set([15, 20])), [11, 14, 16, 17, 18, 19]);
  assert.deepEqual(unreportedSeqs(10, 20, 18, new Set(), new Set()), [18, 19, 20], "sequences before the stream's first are gone");
  assert.deepEqual(unreportedSeqs(10, 10, 1, new Set(), new Set()), [], "nothing delivered past the floor");
  assert.deepEqual(unreportedSeqs(0, 100, 1, new Set(), new Set(), 3), [1, 2, 3], "bounded");
});
