import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { connect, createInbox, type NatsConnection } from "@nats-io/transport-node";
import { OfaClient } from "@ofa-entail/client/source";
import { jetstreamManager } from "@nats-io/jetstream";
import { ErrorCode, Lane, STREAMS, consumerName, decodeVerdictPayload, type Verdict } from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { countIds, envelope, jpeg, publishRaw, readVerdictStream } from "../harness/requests.ts";
import { latch, until } from "../harness/wait.ts";

const BIN = fileURLToPath(new URL("../../bin/ofa-entail.mjs", import.meta.url));

describe("serve - one request travels from a caller to an onnxruntime verdict", () => {
  let ns: NatsServer;
  let service: Service;
  let nc: NatsConnection;

  before(async () => {
    ns = await NatsServer.start();
    service = await Service.start(ns.url, { OFA_WORKERS: "2", OFA_MAX_BATCH: "8" });
    await service.waitReady();
    nc = await connect({ servers: ns.url });
  });
  after(async () => {
    await nc?.close();
    await service?.stop();
    await ns?.stop();
  });

  test("logs - every line of serve and its workers is one JSON object with each key once (one pid: the writer's)", () => {
    const started = service.raw.filter((l) => l.includes('"worker started"'));
    assert.equal(started.length, 2, "the supervisor logged both workers' start");
    for (const line of service.raw) {
      const keys = [...line.matchAll(/[{,]"([A-Za-z]+)":/g)].map((m) => m[1]);
      assert.equal(keys.filter((k) => k === "pid").length, 1, line);
    }
  });

  test("round trip - classify resolves with a label in yes/no/maybe and scores that sum to 1", async () => {
    const client = new OfaClient(nc);
    const verdict = await client.classify({ image: await jpeg(), text: "Two dogs are playing in the snow.", timeoutMs: 20_000 });
    client.close();
    assert.ok(["yes", "no", "maybe"].includes(verdict.label));
    const { yes, no, maybe } = verdict.scores;
    assert.ok(Math.abs(yes + no + maybe - 1) < 1e-6, `scores sum to ${yes + no + maybe}`);
    assert.equal(verdict.label, Object.entries(verdict.scores).sort((a, b) => b[1] - a[1])[0]![0]);
    assert.equal(verdict.model.name, "ofa-ve-tiny-random");
    assert.equal(verdict.model.meaningful, false);
  });

  test("round trip - a premise changes the prompt and still yields a verdict", async () => {
    const client = new OfaClient(nc);
    const image = await jpeg(500, 300, 3);
    const withPremise = await client.classify({ image, text: "a cat sleeps", premise: "an animal rests on a sofa", timeoutMs: 20_000 });
    const without = await client.classify({ image, text: "a cat sleeps", timeoutMs: 20_000 });
    client.close();
    assert.notDeepEqual(withPremise.scores, without.scores);
  });

  test("concurrency - 200 requests from 4 clients are each answered exactly once", async () => {
    const conns = await Promise.all([1, 2, 3, 4].map(() => connect({ servers: ns.url })));
    const image = await jpeg(224, 224, 7);
    const ids: string[] = [];
    const replies: Verdict[] = [];
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const client = new OfaClient(conns[i % 4]!);
        const id = `conc-${i}`;
        ids.push(id);
        return client.send({ image, text: `request number ${i} shows a scene`, id, timeoutMs: 60_000 }).then((v) => (replies.push(v), client.close(), v));
      }),
    );
    await Promise.all(conns.map((c) => c.close()));
    assert.equal(results.length, 200);
    assert.ok(results.every((v) => v.ok), "every verdict ok");
    assert.deepEqual(new Set(replies.map((v) => v.id)), new Set(ids));
    const stream = await readVerdictStream(nc);
    const counts = countIds(stream.map((v) => v.id).filter((id) => id.startsWith("conc-")));
    assert.equal(counts.size, 200, "200 distinct ids in the verdict stream");
    assert.ok([...counts.values()].every((n) => n === 1), "no id answered twice");
    assert.ok(results.some((v) => v.ok && v.batchSize > 1), "some requests were batched together");
  });

  test("bad input - not-JSON, a corrupt image and an empty text each get one typed error verdict and no redelivery", async () => {
    const inbox = createInbox();
    const got: Verdict[] = [];
    const three = latch(3, "three error verdicts", 20_000);
    const sub = nc.subscribe(inbox, { callback: (_e, m) => (got.push(decodeVerdictPayload(m.data)), three.countDown()) });
    const corrupt = Buffer.concat([(await jpeg()).subarray(0, 200)]);
    await publishRaw(nc, "bad-json", "{not json", inbox);
    await publishRaw(nc, "bad-image", envelope(corrupt, "a dog"), inbox);
    await publishRaw(nc, "bad-text", envelope(await jpeg(), "   "), inbox);
    await three.wait();
    const byId = Object.fromEntries(got.map((v) => [v.id, v]));
    const code = (id: string) => (byId[id]?.ok === false ? byId[id].error.code : "ok");
    assert.equal(code("bad-json"), ErrorCode.PAYLOAD_JSON);
    assert.equal(code("bad-image"), ErrorCode.IMAGE_DECODE);
    assert.equal(code("bad-text"), ErrorCode.TEXT_EMPTY);
    // term() removes a request from the work-queue stream: once nothing is pending and the stream is empty,
    // there is nothing left that could ever be redelivered.
    const jsm = await jetstreamManager(nc);
    await until(async () => (await jsm.consumers.info(STREAMS.requests, consumerName(Lane.interactive))).num_ack_pending === 0, { name: "nothing ack-pending", timeoutMs: 10_000 });
    assert.equal((await jsm.streams.info(STREAMS.requests)).state.messages, 0, "request stream empty");
    sub.unsubscribe();
    const stream = countIds((await readVerdictStream(nc)).map((v) => v.id));
    for (const id of ["bad-json", "bad-image", "bad-text"]) assert.equal(stream.get(id), 1, `${id} answered once`);
    assert.equal(await service.metric("ofa_redeliveries_total"), 0);
  });

  test("metrics - /metrics counts verdicts by outcome and code, batch sizes and latencies", async () => {
    const ok = await service.metric('ofa_verdicts_total{outcome="ok",code="none"}');
    assert.ok(ok >= 203, `ok verdicts counted: ${ok}`);
    assert.equal(await service.metric(`ofa_verdicts_total{outcome="error",code="${ErrorCode.IMAGE_DECODE}"}`), 1);
    assert.ok((await service.metric("ofa_batch_size_count")) >= 1);
    assert.ok((await service.metric("ofa_request_duration_seconds_count")) >= 203);
    assert.equal(await service.metric("ofa_workers_ready"), 2);
    assert.ok((await service.metric("ofa_process_resident_memory_bytes")) > 0);
  });

  test("cli - `ofa-entail classify` prints the verdict as one JSON line, and the error code with a non-zero exit", async () => {
    const file = join(tmpdir(), `ofa-cli-${process.pid}.jpg`);
    await writeFile(file, await jpeg(300, 200, 11));
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, [BIN, "classify", "--nats", ns.url, "--image", file, "--text", "a blue square"]);
    const verdict = JSON.parse(stdout.trim()) as Verdict;
    assert.equal(verdict.ok, true);
    await writeFile(file, "not an image at all");
    const failed = await run(process.execPath, [BIN, "classify", "--nats", ns.url, "--image", file, "--text", "x"]).then(
      () => assert.fail("should exit non-zero"),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /OFA_ERR_IMAGE_FORMAT/);
    assert.equal((JSON.parse(failed.stdout.trim()) as Verdict).ok, false);
  });
});
