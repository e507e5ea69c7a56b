/**
 * The 3-node cluster harness against the real nats-server: formation, an R3 stream, and a
 * stream leader SIGKILLed while messages are being published and read. Every acknowledged
 * publish must be read back (a Jepsen-style check: lost / unexpected / duplicated ids).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, StorageType, jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { NatsCluster, natsServerVersion, supportsSyncInterval } from "../harness/nats-cluster.ts";
import { until } from "../harness/wait.ts";

const STREAM = "OFA_TEST_R3";
const SUBJECT = "ofa.test.r3";
const TOTAL = 600;
const KILL_AFTER_ACKED = 200;
const PUBLISHERS = 4;
/** A publish that is not acknowledged during a leader election is retried with the same id until this. */
const PUBLISH_DEADLINE_MS = 30_000;
/** The reader gives up after this (from its start); whatever it has not seen by then counts as lost. */
const READ_DEADLINE_MS = 45_000;

/** Publishes one id until the stream acknowledges it; the same Nats-Msg-Id makes retries idempotent. */
async function publishUntilAcked(js: JetStreamClient, id: string): Promise<void> {
  const deadline = Date.now() + PUBLISH_DEADLINE_MS;
  for (;;) {
    try {
      await js.publish(SUBJECT, id, { msgID: id, expect: { streamName: STREAM }, timeout: 2_000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`publish ${id} never acknowledged`, { cause: err });
      await new Promise((r) => setTimeout(r, 100)); // back off while a new leader is elected
    }
  }
}

/**
 * Reads with short fetches (a leader change costs at most one fetch's expiry) until every id
 * in `acked` has been seen after publishing ended, or the deadline passes (then the caller's
 * lost-id check reports what is missing).
 */
async function readAll(nc: NatsConnection, acked: Set<string>, seen: Map<string, number>, isPublishing: () => boolean): Promise<void> {
  const js = jetstream(nc);
  const deadline = Date.now() + READ_DEADLINE_MS;
  const complete = () => !isPublishing() && [...acked].every((id) => seen.has(id));
  while (!complete() && Date.now() < deadline && !nc.isClosed()) {
    try {
      const consumer = await js.consumers.get(STREAM, "reader");
      const batch = await consumer.fetch({ max_messages: 100, expires: 1_000 });
      for await (const m of batch) {
        const id = m.string();
        seen.set(id, (seen.get(id) ?? 0) + 1);
        m.ack();
      }
    } catch {
      await new Promise((r) => setTimeout(r, 100)); // leader moving: fetch again
    }
  }
}

/**
 * Publishes TOTAL ids from PUBLISHERS concurrent publishers and SIGKILLs `leader` once
 * KILL_AFTER_ACKED are acknowledged. Returns how long after the kill the first publish sent
 * after it was acknowledged (the failover as a publisher sees it).
 */
async function publishThroughKill(cluster: NatsCluster, js: JetStreamClient, leader: string, acked: Set<string>): Promise<number> {
  let killedAt = 0;
  let firstAckAfterKill = 0;
  const killed = (async () => {
    await until(() => acked.size >= KILL_AFTER_ACKED, { name: `${KILL_AFTER_ACKED} acknowledged publishes`, timeoutMs: 20_000 });
    killedAt = performance.now();
    await cluster.kill(leader);
  })();
  let next = 0;
  const publisher = async (): Promise<void> => {
    while (next < TOTAL) {
      const id = `m-${next++}`;
      const sentAfterKill = killedAt > 0;
      await publishUntilAcked(js, id);
      if (sentAfterKill && !firstAckAfterKill) firstAckAfterKill = performance.now();
      acked.add(id);
    }
  };
  await Promise.all(Array.from({ length: PUBLISHERS }, publisher));
  await killed;
  return Math.round(firstAckAfterKill - killedAt);
}

/** Jepsen's queue-checker classes: acknowledged but never read, read but never published, read twice. */
function classify(acked: Set<string>, seen: Map<string, number>) {
  return {
    lost: [...acked].filter((id) => !seen.has(id)),
    unexpected: [...seen.keys()].filter((id) => !acked.has(id)),
    duplicated: [...seen].filter(([, n]) => n > 1).map(([id]) => id),
  };
}

test("cluster - an R3 stream loses no acknowledged message when its leader is SIGKILLed under load", async (t) => {
  const started = performance.now();
  const cluster = await NatsCluster.start();
  t.after(() => cluster.stop());
  const version = natsServerVersion();
  t.diagnostic(`${version.text}: cluster formed (meta leader agreed) in ${Math.round(performance.now() - started)} ms`);
  if (!supportsSyncInterval(version)) {
    assert.deepEqual(cluster.droppedConfig, ["sync_interval: always"], "only the 2.10 key is dropped on an older server");
    t.diagnostic(`ran without: ${cluster.droppedConfig.join("; ")} (server older than 2.10)`);
  }
  const nc = await connect({ servers: cluster.servers, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  t.after(() => nc.close());
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: STREAM, subjects: [SUBJECT], num_replicas: 3, storage: StorageType.File });
  await jsm.consumers.add(STREAM, { durable_name: "reader", ack_policy: AckPolicy.Explicit, ack_wait: 5_000_000_000 });
  const leader = await cluster.waitForStreamLeader(STREAM);

  const acked = new Set<string>();
  const seen = new Map<string, number>();
  let publishing = true;
  const reader = readAll(nc, acked, seen, () => publishing);
  const failoverMs = await publishThroughKill(cluster, jetstream(nc), leader, acked);
  publishing = false;
  const newLeader = await cluster.waitForStreamLeader(STREAM);
  assert.notEqual(newLeader, leader, "a surviving node leads the stream");
  t.diagnostic(`stream leader ${leader} killed; ${newLeader} took over; the first publish sent after the kill was acknowledged ${failoverMs} ms after it`);

  await reader;
  const { lost, unexpected, duplicated } = classify(acked, seen);
  t.diagnostic(`acked ${acked.size}, read ${seen.size}, duplicated deliveries ${duplicated.length} (at-least-once allows them)`);
  assert.equal(acked.size, TOTAL);
  assert.deepEqual(lost, [], "no acknowledged message is lost");
  assert.deepEqual(unexpected, [], "nothing is read that was not published");
  assert.equal((await jsm.streams.info(STREAM)).state.messages, TOTAL, "Nats-Msg-Id retries stored each id once");

  await cluster.restart(leader);
  await until(
    async () => {
      const jsz = await cluster.node(leader).jsz(`?acc=$G&streams=true`);
      return jsz?.account_details?.[0]?.stream_detail?.find((st) => st.name === STREAM)?.state?.messages === TOTAL;
    },
    { name: `restarted ${leader} catching up to ${TOTAL} messages`, timeoutMs: 20_000 },
  );
});
