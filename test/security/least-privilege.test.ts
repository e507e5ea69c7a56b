/**
 * Issue 10, defence in depth: infra/nats/auth/user-password.conf gives the service's NATS user only what it uses.
 * Under exactly those permissions (the committed file, loaded by a real nats-server) the service serves every path a
 * caller can take — SDK, front door, a repeated id, the verdict cache, the object store, bad input to the dead letters —
 * without a single permission violation in the broker's log; and a poisoned reply subject is refused twice over: the
 * service answers OFA_ERR_REPLY_SUBJECT without publishing, and the broker refuses the service's user the subject.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, headers as natsHeaders } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { OfaClient } from "@ofa-entail/client/source";
import { ErrorCode, Header, Lane, SERVICE_SUBJECT, STREAMS, decodeVerdictPayload, requestSubject, verdictSubject } from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { envelope, jpeg } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";
import { noiseImage } from "../fixtures/bad-images.ts";

const AUTH_CONF = fileURLToPath(new URL("../../infra/nats/auth/user-password.conf", import.meta.url));
const WAIT_MS = 20_000;
/** The caller user's own inbox prefix: the only inboxes it may subscribe to. */
const CLIENT_INBOX = "_INBOX.ofa-client";

test("security - least privilege: the service serves every path under the committed permissions, and the broker refuses it a poisoned reply subject", async (t) => {
  const env = { OFA_NATS_SERVICE_PASSWORD: "svc-lp-pass", OFA_NATS_CLIENT_PASSWORD: "client-lp-pass" };
  Object.assign(process.env, env); // the spawned nats-server resolves $VARS from its environment
  t.after(() => {
    for (const k of Object.keys(env)) delete process.env[k];
  });
  const dir = await mkdtemp(join(tmpdir(), "ofa-lp-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const log = join(dir, "nats.log");
  const ns = await NatsServer.start({ extraConf: `${await readFile(AUTH_CONF, "utf8")}\nlog_file: "${log}"\n`, maxPayload: "64KB" });
  t.after(() => ns.stop());
  const service = await Service.start(ns.url, { OFA_NATS_USER: "ofa-entail", OFA_NATS_PASSWORD: env.OFA_NATS_SERVICE_PASSWORD });
  t.after(() => service.stop());
  await service.waitReady();

  const nc = await connect({ servers: ns.url, user: "ofa-client", pass: env.OFA_NATS_CLIENT_PASSWORD, inboxPrefix: CLIENT_INBOX });
  t.after(() => nc.close());
  const client = new OfaClient(nc);
  t.after(() => client.close());
  const image = await jpeg(64, 48, 7);

  const first = await client.classify({ image, text: "a square", id: "lp-1", timeoutMs: WAIT_MS });
  const cached = await client.classify({ image, text: "a square", id: "lp-2", timeoutMs: WAIT_MS });
  assert.equal(cached.cached, true, "the verdict cache works under these permissions");
  assert.deepEqual(await client.classify({ image, text: "a square", id: "lp-1", timeoutMs: WAIT_MS }), first, "a repeated id is answered from the verdict stream");
  const h = natsHeaders();
  h.set(Header.MsgId, "lp-door");
  const door = decodeVerdictPayload((await nc.request(SERVICE_SUBJECT, envelope(image, "a door"), { headers: h, timeout: WAIT_MS })).data);
  assert.equal(door.ok, true, "the front door works");
  const bad = await client.send({ image: Buffer.from("not an image"), text: "x", id: "lp-bad", timeoutMs: WAIT_MS });
  assert.equal(bad.ok ? "ok" : bad.error.code, ErrorCode.IMAGE_FORMAT);

  // The object store path, with the service's own credentials for the upload (the client user has no $O rights).
  const svc = await connect({ servers: ns.url, user: "ofa-entail", pass: env.OFA_NATS_SERVICE_PASSWORD });
  t.after(() => svc.close());
  const uploader = new OfaClient(svc);
  t.after(() => uploader.close());
  const big = await uploader.classify({ image: await noiseImage(200, 200, "png"), text: "noise", id: "lp-big", timeoutMs: WAIT_MS });
  assert.ok(["yes", "no", "maybe"].includes(big.label), "an object-store image is answered");

  // A poisoned reply subject: the service refuses it itself…
  const jsm = await jetstreamManager(svc);
  const dlqBefore = (await jsm.streams.info(STREAMS.deadLetters)).state;
  assert.ok(dlqBefore.messages > 0, "a dead letter exists to be purged");
  const ph = natsHeaders();
  ph.set(Header.ReplyTo, `$JS.API.STREAM.PURGE.${STREAMS.deadLetters}`);
  await jetstream(nc).publish(requestSubject(Lane.interactive), envelope(image, "purge"), { msgID: "lp-poison", headers: ph });
  await until(async () => (await jsm.streams.getMessage(STREAMS.verdicts, { last_by_subj: verdictSubject("lp-poison") }).catch(() => null)) !== null, {
    name: "the poisoned request's verdict",
    timeoutMs: WAIT_MS,
  });
  const poisoned = decodeVerdictPayload((await jsm.streams.getMessage(STREAMS.verdicts, { last_by_subj: verdictSubject("lp-poison") }))!.data);
  assert.equal(poisoned.ok ? "ok" : poisoned.error.code, ErrorCode.REPLY_SUBJECT);
  // …and the broker refuses the service's user that subject outright.
  await assert.rejects(svc.request(`$JS.API.STREAM.PURGE.${STREAMS.deadLetters}`, "", { timeout: 2_000 }), /permissions|violation|timeout/i);
  // The dead letter is written after the verdict (the verdict is what the caller waits for): wait for it.
  await until(async () => (await jsm.streams.info(STREAMS.deadLetters)).state.messages > dlqBefore.messages, {
    name: "the poisoned request's dead letter",
    timeoutMs: WAIT_MS,
  });
  const dlqAfter = (await jsm.streams.info(STREAMS.deadLetters)).state;
  assert.equal(dlqAfter.first_seq, dlqBefore.first_seq, "the dead letters were not purged");

  // The only violation the broker logged is that direct attempt: the service itself never needed more.
  const violations = (await readFile(log, "utf8")).split("\n").filter((l) => /violation/i.test(l));
  assert.ok(violations.length >= 1, "the refused purge is logged");
  assert.deepEqual(violations.filter((l) => !l.includes(`STREAM.PURGE.${STREAMS.deadLetters}`)), [], "no other permission violation");
});
