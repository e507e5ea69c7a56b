/**
 * Issue 10, observation 5: a full stream or store reaches the caller as OFA_ERR_OVERLOADED — distinct from a
 * timeout — in the SDK, in the CLI's exit status (4) and through the front door. Real nats-server and `serve`; the
 * streams are made small after provisioning so that "full" takes one request, not gigabytes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, headers as natsHeaders } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { ClassifyError, OfaClient } from "@ofa-entail/client/source";
import { EXIT } from "../../src/client/cli.ts";
import { ERROR_SPECS, ErrorCode, Header, IMAGE_BUCKET, SERVICE_SUBJECT, STREAMS, decodeVerdictPayload } from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { BIN, Service } from "../harness/service.ts";
import { envelope, jpeg } from "../harness/requests.ts";
import { noiseImage } from "../fixtures/bad-images.ts";

const IMAGE_STREAM = `OBJ_${IMAGE_BUCKET}`;

function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("exit", (code) => resolve({ code, stderr }));
  });
}

test("fault - store full: the object store and the request stream, when full, are OFA_ERR_OVERLOADED in the SDK, the CLI (exit 4) and the front door", async (t) => {
  // max_payload 64 KB: a 100 KB image goes through the object store.
  const ns = await NatsServer.start({ maxPayload: "64KB" });
  t.after(() => ns.stop());
  const service = await Service.start(ns.url, { OFA_CACHE_TTL_MS: "0" });
  t.after(() => service.stop());
  await service.waitReady();
  const nc = await connect({ servers: ns.url });
  t.after(() => nc.close());
  const client = new OfaClient(nc);
  t.after(() => client.close());
  const jsm = await jetstreamManager(nc);
  const dir = await mkdtemp(join(tmpdir(), "ofa-full-"));
  t.after(() => rm(dir, { recursive: true, force: true }));

  // The object store holds at most 16 KB now: the large image's chunks do not fit.
  const images = await jsm.streams.info(IMAGE_STREAM);
  await jsm.streams.update(IMAGE_STREAM, { ...images.config, max_bytes: 16 * 1024 });
  const large = await noiseImage(200, 200, "png");
  assert.ok(large.byteLength > 64 * 1024, `the image must exceed max_payload (${large.byteLength} bytes)`);
  const refused = await client.send({ image: large, text: "too much", timeoutMs: 20_000 }).then(() => undefined, (e: unknown) => e);
  assert.ok(refused instanceof ClassifyError, `a typed error, got ${String(refused)}`);
  assert.equal(refused.code, ErrorCode.OVERLOADED, refused.message);
  assert.equal(refused.retryable, true);

  const file = join(dir, "large.png");
  await writeFile(file, large);
  const cli = await runCli(["classify", "--image", file, "--text", "too much", "--timeout", "20000", "--nats", ns.url]);
  assert.equal(cli.code, EXIT.overloaded, `CLI exit status: ${cli.stderr}`);
  assert.notEqual(EXIT.overloaded, EXIT.unavailable, "distinct from a timeout");
  assert.match(cli.stderr, /OFA_ERR_OVERLOADED/);

  // The request stream full (1 KB of room): the front door says so instead of timing out.
  const requests = await jsm.streams.info(STREAMS.requests);
  await jsm.streams.update(STREAMS.requests, { ...requests.config, max_bytes: 1024 });
  const h = natsHeaders();
  h.set(Header.MsgId, "door-full");
  const reply = await nc.request(SERVICE_SUBJECT, envelope(await jpeg(64, 48, 1), "x".repeat(1_500)), { headers: h, timeout: 20_000 });
  const verdict = decodeVerdictPayload(reply.data);
  assert.equal(verdict.ok ? "ok" : verdict.error.code, ErrorCode.OVERLOADED);
  assert.equal(reply.headers?.get(Header.ServiceErrorCode), String(ERROR_SPECS[ErrorCode.OVERLOADED].status));
  const sdk = await client.send({ image: await jpeg(64, 48, 2), text: "y".repeat(1_500), timeoutMs: 20_000 }).then(() => undefined, (e: unknown) => e);
  assert.ok(sdk instanceof ClassifyError && sdk.code === ErrorCode.OVERLOADED, `SDK: ${String(sdk)}`);
});
