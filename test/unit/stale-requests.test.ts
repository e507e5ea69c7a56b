import { test } from "node:test";
import assert from "node:assert/strict";
import type { ConsumerInfo } from "@nats-io/jetstream";
import { settledUpTo } from "../../src/supervisor/stale-requests.ts";

const info = (ackFloor: number, delivered: number, ackPending: number) =>
  ({ ack_floor: { stream_seq: ackFloor, consumer_seq: 0 }, delivered: { stream_seq: delivered, consumer_seq: 0 }, num_ack_pending: ackPending }) as unknown as ConsumerInfo;

test("stale requests - a consumer is settled up to its ack floor while it holds anything un-acked", () => {
  assert.equal(settledUpTo(info(120, 300, 4)), 120);
});

test("stale requests - a consumer holding nothing is settled up to what it last delivered (a lane that never acked)", () => {
  assert.equal(settledUpTo(info(0, 300, 0)), 300);
  assert.equal(settledUpTo(info(0, 0, 0)), 0);
});
