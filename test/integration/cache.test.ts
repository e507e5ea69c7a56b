import { test } from "node:test";
import assert from "node:assert/strict";
import { Kvm } from "@nats-io/kv";
import { CACHE_BUCKET } from "../../src/protocol/index.ts";
import { until } from "../harness/wait.ts";
import { startStack } from "../harness/stack.ts";
import { jpeg } from "../harness/requests.ts";

test("cache - a repeated (image, text) pair is answered from the NATS KV cache without running the model", async (t) => {
  const { service, nc, client } = await startStack(t, { OFA_CACHE_TTL_MS: "60000" });
  const image = await jpeg(300, 300, 12);

  const first = await client.classify({ image, text: "a square of colour", timeoutMs: 20_000 });
  // The cache is written right after the verdict is published (off the reply's critical path); wait for the entry.
  const kv = await new Kvm(nc).open(CACHE_BUCKET);
  await until(async () => (await kv.status()).values === 1, { name: "cache entry written", timeoutMs: 5_000 });
  const again = await client.classify({ image, text: "a square of colour", timeoutMs: 20_000 });
  const otherText = await client.classify({ image, text: "a different claim", timeoutMs: 20_000 });
  assert.equal(first.cached, undefined);
  assert.equal(again.cached, true);
  assert.deepEqual(again.scores, first.scores);
  assert.notEqual(again.id, first.id, "the cached verdict carries the new request's id");
  assert.equal(otherText.cached, undefined, "the key includes the text");
  assert.equal(await service.metric("ofa_cache_hits_total"), 1);
  assert.equal(await service.metric("ofa_cache_misses_total"), 2);
  assert.equal(await service.metric("ofa_batch_size_sum"), 2, "the model ran twice for three requests");
});
