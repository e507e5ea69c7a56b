import { test } from "node:test";
import assert from "node:assert/strict";
import type { ConsumerInfo, JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "../../src/log/logger.ts";
import { StaleRequestSweeper, settledUpTo } from "../../src/supervisor/stale-requests.ts";

const info = (ackFloor: number, delivered: number, ackPending: number) =>
  ({ ack_floor: { stream_seq: ackFloor, consumer_seq: 0 }, delivered: { stream_seq: delivered, consumer_seq: 0 }, num_ack_pending: ackPending }) as unknown as ConsumerInfo;

test("stale requests - a consumer is settled up to its ack floor while it holds anything un-acked", () => {
  assert.equal(settledUpTo(info(120, 300, 4)), 120);
});

test("stale requests - a consumer holding nothing is settled up to what it last delivered (a lane that never acked)", () => {
  assert.equal(settledUpTo(info(0, 300, 0)), 300);
  assert.equal(settledUpTo(info(0, 0, 0)), 0);
});

/** A request stream and a verdict stream in memory, answering the calls the sweeper makes, and counting the reads. */
function fakeStreams(requests: Map<number, string>, verdictIds: Set<string>) {
  const reads = { requests: 0 };
  const stored = (seq: number) => ({ seq, subject: "ofa.ve.req.bulk", data: new Uint8Array(), header: { get: (k: string) => (k === "Nats-Msg-Id" ? requests.get(seq) : "") } });
  const jsm = {
    streams: {
      info: async () => {
        const seqs = [...requests.keys()];
        return { state: { messages: seqs.length, first_seq: seqs.length ? Math.min(...seqs) : 1000, last_seq: 1000 } };
      },
      getMessage: async (stream: string, q: { seq?: number; next_by_subj?: string; last_by_subj?: string }) => {
        if (stream === "OFA_VE_VERDICTS") return [...verdictIds].some((id) => q.last_by_subj === `ofa.ve.verdict.${id}`) ? {} : null;
        reads.requests += 1;
        if (q.next_by_subj === undefined) return requests.has(q.seq!) ? stored(q.seq!) : null;
        const next = [...requests.keys()].filter((s) => s >= q.seq!).sort((a, b) => a - b)[0];
        return next === undefined ? null : stored(next);
      },
      deleteMessage: async (_stream: string, seq: number) => requests.delete(seq),
    },
  };
  return { jsm: jsm as unknown as JetStreamManager, reads };
}

const quiet = { warn: () => undefined } as unknown as Logger;

test("stale requests - a sweep costs O(new messages): what it left (no verdict) is not read again on the next poll, and gaps cost nothing", async () => {
  // 300 requests below the floor that have no verdict (e.g. on a subject no consumer served), scattered over 1000 sequences.
  const requests = new Map<number, string>(Array.from({ length: 300 }, (_, i) => [i * 3 + 1, `left-${i}`]));
  const { jsm, reads } = fakeStreams(requests, new Set());
  let now = 0;
  const sweeper = new StaleRequestSweeper(jsm, quiet, () => undefined, () => now);
  assert.equal(await sweeper.sweep(1000), 0);
  assert.ok(reads.requests <= 301, `the first sweep reads each stored message once, not each sequence (${reads.requests} reads)`);
  const afterFirst = reads.requests;
  for (let i = 0; i < 5; i++) assert.equal(await sweeper.sweep(1000), 0);
  assert.ok(reads.requests - afterFirst <= 5, `later polls read (almost) nothing (${reads.requests - afterFirst} reads in 5 polls)`);

  // A request answered and left by a broker crash after a rewind (a reconnect) is found and removed.
  requests.set(2, "answered-2");
  const { jsm: jsm2 } = fakeStreams(requests, new Set(["answered-2"]));
  const removed: number[] = [];
  const again = new StaleRequestSweeper(jsm2, quiet, (n) => removed.push(n), () => now);
  await again.sweep(1000);
  assert.deepEqual(removed, [1]);
  requests.set(5, "answered-2"); // the broker brings one back below what was examined
  assert.equal(await again.sweep(1000), 0, "not read again without a rewind");
  again.rewind();
  assert.equal(await again.sweep(1000), 1, "found after the rewind");
  requests.set(8, "answered-2");
  now += 5 * 60_000;
  assert.equal(await again.sweep(1000), 1, "and by the periodic full rescan");
});
