/** Capacity bookkeeping (src/consumer/capacity.ts): per-lane limits under any interleaving of fetches and settlements. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Capacity } from "../../src/consumer/capacity.ts";
import { HeldSet } from "../../src/consumer/held.ts";
import type { Job } from "../../src/consumer/job.ts";
import type { Lane } from "../../src/protocol/index.ts";
import { preparedJob } from "./consumer-fakes.ts";

const MAX_BATCH = 4;
const newCapacity = () => new Capacity({ maxBatch: MAX_BATCH, held: new HeldSet(1_000, () => undefined) });

/** A small deterministic PRNG, so a failure reproduces. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

test("capacity - no interleaving of fetches, arrivals and settlements exceeds a lane's limit", () => {
  for (let seed = 1; seed <= 50; seed++) {
    const random = prng(seed);
    const capacity = newCapacity();
    const room = capacity.room();
    const open: Record<Lane, number> = { interactive: 0, bulk: 0 }; // messages an open fetch may still deliver
    const held: Job[] = [];
    for (let step = 0; step < 400; step++) {
      const lane: Lane = random() < 0.5 ? "interactive" : "bulk";
      const r = random();
      if (r < 0.25 && open[lane] === 0) {
        // a puller opens a fetch for exactly the room it is offered (puller.ts)
        const want = room.available(lane);
        if (want > 0) {
          room.reserve(lane, want);
          open[lane] = want;
        }
      } else if (r < 0.6 && open[lane] > 0) {
        room.release(lane, 1); // a message of the fetch arrives and is held
        open[lane] -= 1;
        const job = preparedJob(lane);
        capacity.hold(job);
        held.push(job);
      } else if (r < 0.7 && open[lane] > 0) {
        room.release(lane, open[lane]); // the fetch expires with room left
        open[lane] = 0;
      } else if (held.length > 0) {
        capacity.release(held.splice(Math.floor(random() * held.length), 1)[0]!);
      }
      const interactive = held.filter((j) => j.lane === "interactive").length;
      const bulk = held.length - interactive;
      assert.ok(interactive <= capacity.limit, `seed ${seed} step ${step}: ${interactive} interactive held > ${capacity.limit}`);
      assert.ok(bulk <= MAX_BATCH, `seed ${seed} step ${step}: ${bulk} bulk held > one batch (${MAX_BATCH})`);
      assert.ok(held.length <= capacity.limit + MAX_BATCH, `seed ${seed} step ${step}: ${held.length} held in all`);
      assert.equal(capacity.size, held.length);
      assert.equal(capacity.bulkHeld, bulk);
    }
  }
});

test("capacity - an idle interactive fetch holding all its room does not starve bulk pulls", () => {
  const capacity = newCapacity();
  const room = capacity.room();
  room.reserve("interactive", room.available("interactive"));
  assert.equal(room.available("interactive"), 0);
  assert.equal(room.available("bulk"), MAX_BATCH, "bulk may still pull one batch");
});

test("capacity - bulk never holds more than one batch, interactive may fill the whole capacity", () => {
  const capacity = newCapacity();
  for (let i = 0; i < MAX_BATCH; i++) capacity.hold(preparedJob("bulk"));
  assert.equal(capacity.available("bulk"), 0);
  assert.equal(capacity.available("interactive"), capacity.limit - MAX_BATCH);
  const interactive = Array.from({ length: capacity.limit - MAX_BATCH }, () => preparedJob("interactive"));
  interactive.forEach((j) => capacity.hold(j));
  assert.equal(capacity.available("interactive"), 0);
  capacity.release(interactive[0]!);
  assert.equal(capacity.available("interactive"), 1);
});

test("capacity - settling a request twice frees its room once", () => {
  const capacity = newCapacity();
  const a = preparedJob("bulk");
  capacity.hold(a);
  capacity.hold(preparedJob("bulk"));
  capacity.release(a);
  capacity.release(a);
  assert.equal(capacity.size, 1);
  assert.equal(capacity.bulkHeld, 1);
  assert.equal(capacity.available("bulk"), MAX_BATCH - 1);
});

test("capacity - holding and releasing wakes a puller waiting for room", async () => {
  const capacity = newCapacity();
  const job = preparedJob("interactive");
  capacity.hold(job);
  await capacity.changed.wait(); // pending from hold(): resolves at once
  let woken = false;
  void capacity.changed.wait(60_000).then(() => (woken = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(woken, false, "nothing changed yet");
  capacity.release(job);
  await new Promise((r) => setImmediate(r));
  assert.equal(woken, true, "release() woke the waiting puller");
});
