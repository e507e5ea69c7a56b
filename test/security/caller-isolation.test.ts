/**
 * Issue 24, item 3: verdicts reach only their caller. An attacker who could read a victim's request (its
 * Ofa-Reply-To) or its inbox could copy the inbox and send the victim a forged verdict, or read its verdicts. Under
 * infra/nats/auth/user-password.conf a caller user reads neither: every caller has its own user and inbox prefix
 * (the committed `ofa-client` block, copied for a second caller the way an operator would), and the broker refuses
 * a caller every way into the request stream and into another caller's inbox.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager, AckPolicy } from "@nats-io/jetstream";
import { OfaClient } from "@ofa-entail/client/source";
import { Lane, STREAMS, requestSubject } from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { jpeg } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

const AUTH_CONF = fileURLToPath(new URL("../../infra/nats/auth/user-password.conf", import.meta.url));
const WAIT_MS = 20_000;

/** The committed file with a second caller: the `ofa-client` block copied under another user, password and inbox. */
function withSecondCaller(conf: string): string {
  const start = conf.lastIndexOf("{", conf.indexOf("user: ofa-client"));
  let depth = 0;
  let end = start;
  for (; end < conf.length; end++) {
    if (conf[end] === "{") depth++;
    if (conf[end] === "}" && --depth === 0) break;
  }
  const block = conf.slice(start, end + 1);
  const copy = block.replace("user: ofa-client", "user: ofa-other").replace("$OFA_NATS_CLIENT_PASSWORD", "$OFA_NATS_OTHER_PASSWORD").replaceAll("_INBOX.ofa-client.", "_INBOX.ofa-other.");
  return `${conf.slice(0, end + 1)}\n    ${copy}${conf.slice(end + 1)}`;
}

test("security - a caller cannot read another caller's requests or inbox: the request stream and foreign inboxes are refused by the broker", async (t) => {
  const env = { OFA_NATS_SERVICE_PASSWORD: "svc-iso-pass", OFA_NATS_CLIENT_PASSWORD: "victim-iso-pass", OFA_NATS_OTHER_PASSWORD: "attacker-iso-pass" };
  Object.assign(process.env, env); // the spawned nats-server resolves $VARS from its environment
  t.after(() => {
    for (const k of Object.keys(env)) delete process.env[k];
  });
  const dir = await mkdtemp(join(tmpdir(), "ofa-iso-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ns = await NatsServer.start({ extraConf: withSecondCaller(await readFile(AUTH_CONF, "utf8")) });
  t.after(() => ns.stop());
  const service = await Service.start(ns.url, { OFA_NATS_USER: "ofa-entail", OFA_NATS_PASSWORD: env.OFA_NATS_SERVICE_PASSWORD });
  t.after(() => service.stop());
  await service.waitReady();

  const victim = await connect({ servers: ns.url, user: "ofa-client", pass: env.OFA_NATS_CLIENT_PASSWORD, inboxPrefix: "_INBOX.ofa-client" });
  t.after(() => victim.close());
  const attacker = await connect({ servers: ns.url, user: "ofa-other", pass: env.OFA_NATS_OTHER_PASSWORD, inboxPrefix: "_INBOX.ofa-other" });
  t.after(() => attacker.close());

  // The attacker listens wherever the victim's requests or verdicts could show.
  const seen: string[] = [];
  const refused: string[] = [];
  for (const subject of ["_INBOX.>", "_INBOX.ofa-client.>", `${requestSubject(Lane.interactive)}`, "ofa.ve.>", "$JS.ACK.>"]) {
    attacker.subscribe(subject, { callback: (err, m) => void (err ? refused.push(subject) : seen.push(`${subject}: ${m.subject}`)) });
  }
  await attacker.flush();

  const client = new OfaClient(victim);
  t.after(() => client.close());
  const verdict = await client.classify({ image: await jpeg(64, 48, 3), text: "a private question", id: "iso-victim", timeoutMs: WAIT_MS });
  assert.ok(["yes", "no", "maybe"].includes(verdict.label), "the victim is served under its own inbox prefix");

  // The request is still in the stream until acked; try while one waits there too.
  const svc = await connect({ servers: ns.url, user: "ofa-entail", pass: env.OFA_NATS_SERVICE_PASSWORD });
  t.after(() => svc.close());
  const lastSeq = (await (await jetstreamManager(svc)).streams.info(STREAMS.requests)).state.last_seq;
  assert.ok(lastSeq > 0, "the victim's request went through the stream");

  const jsm = await jetstreamManager(attacker, { timeout: 2_000 });
  await assert.rejects(jsm.streams.getMessage(STREAMS.requests, { seq: lastSeq }), "STREAM.MSG.GET on the request stream");
  await assert.rejects(attacker.request(`$JS.API.DIRECT.GET.${STREAMS.requests}`, JSON.stringify({ seq: lastSeq }), { timeout: 2_000 }), "DIRECT.GET on the request stream");
  await assert.rejects(jsm.consumers.add(STREAMS.requests, { name: "peek", ack_policy: AckPolicy.None, filter_subject: requestSubject(Lane.interactive) }), "a consumer on the request stream");
  await assert.rejects(jsm.streams.info(STREAMS.requests), "even the request stream's info");

  await until(() => refused.length === 5, { name: `every eavesdropping subscription refused (so far: ${refused.join(", ")})`, timeoutMs: 5_000 }).catch(() => undefined);
  assert.deepEqual(seen, [], "the attacker saw none of the victim's requests, inbox messages or acks");
  assert.deepEqual(refused.sort(), ["$JS.ACK.>", "_INBOX.>", "_INBOX.ofa-client.>", "ofa.ve.>", requestSubject(Lane.interactive)].sort(), "every eavesdropping subscription was refused");
});
