/**
 * Policy lists end to end (issue 16): one image and many hypotheses in one request, through the SDK, the CLI and the
 * NATS services front door, against `serve` with the split tiny model (models/tiny-split) and OFA_MAX_BATCH 4, so a
 * 16-item list runs as four batches of rows that share one encoded image.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { OfaClient } from "@ofa-entail/client/source";
import { CACHE_BUCKET } from "@ofa-entail/client/source";
import { SERVICE_SUBJECT, decodeAnyVerdict, type ListVerdict } from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { BIN, Service } from "../harness/service.ts";
import { jpeg } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

const SPLIT_MODEL = fileURLToPath(new URL("../../models/tiny-split", import.meta.url));
const POLICY = Array.from({ length: 16 }, (_, i) => `policy rule ${i}: the picture shows ${["a weapon", "an injury", "a shoe", "a flag"][i % 4]}`);

describe("policy lists - one image, many hypotheses, one request, one verdict", () => {
  let ns: NatsServer;
  let service: Service;
  let nc: NatsConnection;
  let client: OfaClient;
  let dir: string;

  before(async () => {
    ns = await NatsServer.start();
    service = await Service.start(ns.url, { OFA_MODEL_DIR: SPLIT_MODEL, OFA_MAX_BATCH: "4", OFA_CACHE_TTL_MS: "60000" });
    await service.waitReady();
    nc = await connect({ servers: ns.url });
    client = new OfaClient(nc);
    dir = await mkdtemp(join(tmpdir(), "ofa-policy-"));
  });
  after(async () => {
    client?.close();
    await nc?.close();
    await service?.stop();
    await ns?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("SDK - classifyMany answers 16 hypotheses in order in one verdict, in batches of OFA_MAX_BATCH rows; a later single question hits the cache", async () => {
    const image = await jpeg(320, 240, 21);
    const verdict = await client.classifyMany({ image, hypotheses: POLICY, timeoutMs: 30_000 });
    assert.equal(verdict.ok, true);
    assert.deepEqual(verdict.results.map((r) => r.text), POLICY, "one result per hypothesis, in the request's order");
    for (const r of verdict.results) {
      assert.ok(["yes", "no", "maybe"].includes(r.label));
      assert.ok(Math.abs(r.scores.yes + r.scores.no + r.scores.maybe - 1) < 1e-6);
    }
    assert.equal(verdict.model.meaningful, false);
    assert.equal(verdict.batchSize, 4, "the last run held 4 rows (OFA_MAX_BATCH counts hypotheses)");
    assert.equal(await service.metric("ofa_batch_size_sum"), 16, "16 rows ran");
    assert.equal(await service.metric("ofa_batch_size_count"), 4, "in 4 session runs");
    assert.equal(await service.metric('ofa_verdicts_total{outcome="ok",code="none"}'), 1, "one verdict for the list");

    // The cache is per (image, text, premise, model): what the list computed answers a single question.
    const kv = await new Kvm(nc).open(CACHE_BUCKET);
    await until(async () => (await kv.status()).values === 16, { name: "16 cache entries written", timeoutMs: 10_000 });
    const single = await client.classify({ image, text: POLICY[5]!, timeoutMs: 20_000 });
    assert.equal(single.cached, true);
    assert.deepEqual(single.scores, verdict.results[5]!.scores);
    assert.equal(single.label, verdict.results[5]!.label);
    assert.equal(await service.metric("ofa_batch_size_count"), 4, "the model did not run for the single question");
  });

  test("SDK - a list with a shared premise answers each hypothesis as that question asked alone", async () => {
    const image = await jpeg(200, 300, 33);
    const premise = "a photo taken at a market";
    const [list, alone] = await Promise.all([
      client.classifyMany({ image, hypotheses: ["a stall sells fruit", "nobody is there", "it is raining"], premise, timeoutMs: 30_000 }),
      client.classify({ image, text: "nobody is there", premise: "a photo taken at another market", timeoutMs: 30_000 }),
    ]);
    assert.equal(list.results.length, 3);
    const again = await client.classify({ image, text: "nobody is there", premise, timeoutMs: 30_000 });
    for (const label of ["yes", "no", "maybe"] as const) {
      assert.ok(Math.abs(again.scores[label] - list.results[1]!.scores[label]) <= 1e-6, "the same question, asked alone, has the list's answer");
    }
    assert.notDeepEqual(alone.scores, list.results[1]!.scores, "a different premise is a different question");
  });

  test("CLI - repeated --text sends one policy list and prints one verdict line with 16 results", async () => {
    const imagePath = join(dir, "policy.jpg");
    await writeFile(imagePath, await jpeg(256, 256, 44));
    const args = [BIN, "classify", "--image", imagePath, "--nats", ns.url, "--timeout", "30000", ...POLICY.flatMap((p) => ["--text", p])];
    const { code, stdout } = await run(args);
    const lines = stdout.trim().split("\n");
    assert.equal(lines.length, 1, "one JSON line");
    const verdict = decodeAnyVerdict(Buffer.from(lines[0]!)) as ListVerdict;
    assert.equal(code, 0);
    assert.equal(verdict.ok, true);
    assert.deepEqual(verdict.results.map((r) => r.text), POLICY);
  });

  test("front door - a plain NATS request with `hypotheses` is answered with the list verdict", async () => {
    const image = (await jpeg(128, 96, 55)).toString("base64");
    const reply = await nc.request(SERVICE_SUBJECT, JSON.stringify({ v: 1, hypotheses: ["a red square", "a blue circle"], image: { data: image } }), { timeout: 30_000 });
    const verdict = decodeAnyVerdict(reply.data);
    assert.ok(verdict.ok && "results" in verdict, JSON.stringify(verdict));
    assert.deepEqual(verdict.results.map((r) => r.text), ["a red square", "a blue circle"]);
  });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
