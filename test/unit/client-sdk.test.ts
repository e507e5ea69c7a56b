/**
 * The SDK's promises against a real nats-server whose "service" and "JetStream" are this test: a server with
 * JetStream off, a subscriber on the request subjects that acks publishes (or not) and answers what each case
 * needs, and one on $JS.API.> that swallows every API request (a locked-up JetStream) and counts them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, headers as natsHeaders, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { ClassifyError, ErrorCode, Header, OfaClient, SERVICE_SUBJECT, payloadHash, type ErrorVerdict, type OkVerdict } from "@ofa-entail/client/source";
import { startFrontDoor } from "../../src/supervisor/front-door.ts";
import { createLogger } from "../../src/log/logger.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { until } from "../harness/wait.ts";

const IMAGE = new Uint8Array([0xff, 0xd8, 0xff, 0xd9]);

function ok(id: string, worker: string): OkVerdict {
  return {
    v: 1,
    id,
    ok: true,
    label: "yes",
    scores: { yes: 1, no: 0, maybe: 0 },
    model: { name: "fake", version: "0", meaningful: false },
    timings: { queueMs: 0, preprocessMs: 0, batchWaitMs: 0, inferenceMs: 0, totalMs: 0 },
    batchSize: 1,
    deliveries: 1,
    worker,
  };
}

interface Seen {
  readonly msg: Msg;
  readonly id: string;
  readonly replyTo: string;
  readonly hash: string;
}

/** The fake service and JetStream: `onRequest` decides what each published request gets. */
async function fakeBroker(t: { after(fn: () => Promise<void> | void): void }, onRequest: (req: Seen, nc: NatsConnection, n: number) => void) {
  const ns = await NatsServer.start({ jetstreamConf: ", enabled: false" });
  t.after(() => ns.stop());
  const nc = await connect({ servers: ns.url });
  t.after(() => nc.close());
  const api: string[] = [];
  let n = 0;
  nc.subscribe("ofa.ve.req.>", {
    callback: (_err, msg) => onRequest({ msg, id: msg.headers?.get(Header.MsgId) ?? "", replyTo: msg.headers?.get(Header.ReplyTo) ?? "", hash: payloadHash(msg.data) }, nc, n++),
  });
  nc.subscribe("$JS.API.>", { callback: (_err, msg) => void api.push(msg.subject) });
  await nc.flush();
  const client = await connect({ servers: ns.url });
  t.after(() => client.close());
  return { ns, nc, client, api };
}

function ack(msg: Msg, seq: number): void {
  msg.respond(JSON.stringify({ stream: "OFA_VE_REQ", seq, duplicate: false }));
}

/** Publishes a verdict to a reply subject, with the Ofa-Request-Sha256 header a real worker sets. */
function answer(nc: NatsConnection, to: string, verdict: unknown, hash: string): void {
  const h = natsHeaders();
  h.set(Header.RequestHash, hash);
  nc.publish(to, JSON.stringify(verdict), { headers: h });
}

test("client sdk - a reply is taken only when its id and payload hash match the request; others are ignored", async (t) => {
  const { client } = await fakeBroker(t, (req, nc, n) => {
    ack(req.msg, n + 1);
    // Another caller's verdict aimed at this inbox (its Ofa-Reply-To set to it), then one with this id but another
    // payload's hash, then the answer.
    answer(nc, req.replyTo, ok("someone-else", "foreign"), "0".repeat(64));
    answer(nc, req.replyTo, ok(req.id, "other-payload"), "f".repeat(64));
    answer(nc, req.replyTo, ok(req.id, "right"), req.hash);
  });
  const sdk = new OfaClient(client);
  t.after(() => sdk.close());
  const verdict = await sdk.classify({ image: IMAGE, text: "a thing", timeoutMs: 10_000 });
  assert.equal(verdict.worker, "right");
});

test("client sdk - classify settles within its timeout while JetStream does not answer, with no $JS.API.INFO", async (t) => {
  // Publishes are never acked and every API request is swallowed: the broker is locked up.
  const { client, api } = await fakeBroker(t, () => undefined);
  const sdk = new OfaClient(client);
  t.after(() => sdk.close());
  for (const timeoutMs of [800, 800]) {
    const started = performance.now();
    const err = await sdk.classify({ image: IMAGE, text: "a thing", timeoutMs }).catch((e: unknown) => e);
    const took = performance.now() - started;
    assert.ok(err instanceof ClassifyError && err.code === ErrorCode.TIMEOUT, String(err));
    // The design bound is timeoutMs + 80 ms (the last look into the verdict stream); the margin is for a loaded CI
    // machine. The old client waited for its JetStream manager's API check: timeoutMs + 5 s.
    assert.ok(took < timeoutMs + 500, `settled after ${Math.round(took)} ms (timeout ${timeoutMs} ms)`);
  }
  await until(() => api.length > 0, { name: "a verdict-stream lookup", timeoutMs: 5_000 });
  assert.deepEqual(api.filter((s) => s === "$JS.API.INFO"), [], `API requests: ${api.join(", ")}`);
});

test("client sdk - an error code the client does not know becomes a ClassifyError with the server's retryable", async (t) => {
  const { client } = await fakeBroker(t, (req, nc, n) => {
    ack(req.msg, n + 1);
    const verdict: ErrorVerdict = { v: 1, id: req.id, ok: false, error: { code: "OFA_ERR_FROM_A_NEWER_SERVER", message: "new", retryable: false } };
    answer(nc, req.replyTo, verdict, req.hash);
  });
  const sdk = new OfaClient(client);
  t.after(() => sdk.close());
  const err = await sdk.classify({ image: IMAGE, text: "a thing", timeoutMs: 10_000 }).catch((e: unknown) => e);
  assert.ok(err instanceof ClassifyError, String(err));
  assert.equal(err.code, "OFA_ERR_FROM_A_NEWER_SERVER");
  assert.equal(err.retryable, false);
  assert.equal(err.verdict?.error.message, "new");
});

test("client sdk - close() rejects every pending call at once with OFA_ERR_CLIENT_CLOSED", async (t) => {
  let seen = 0;
  const { client } = await fakeBroker(t, (req, _nc, n) => {
    ack(req.msg, n + 1); // acked, never answered
    seen++;
  });
  const sdk = new OfaClient(client);
  const calls = [1, 2].map(() => sdk.classify({ image: IMAGE, text: "a thing", timeoutMs: 60_000 }).catch((e: unknown) => e));
  await until(() => seen === 2, { name: "both requests published", timeoutMs: 10_000 });
  const started = performance.now();
  sdk.close();
  const errors = await Promise.race([Promise.all(calls), new Promise<"hung">((r) => setTimeout(() => r("hung"), 5_000).unref())]);
  assert.notEqual(errors, "hung", "pending calls still pending 5 s after close()");
  for (const err of errors as unknown[]) assert.ok(err instanceof ClassifyError && err.code === ErrorCode.CLIENT_CLOSED && err.retryable, String(err));
  assert.ok(performance.now() - started < 5_000);
  const after = await sdk.classify({ image: IMAGE, text: "later", timeoutMs: 60_000 }).catch((e: unknown) => e);
  assert.ok(after instanceof ClassifyError && after.code === ErrorCode.CLIENT_CLOSED, String(after));
});

test("client sdk - the front door retries a transient publish failure (no stream leader) with the SDK's helper", async (t) => {
  const { client, nc } = await fakeBroker(t, (req, fake, n) => {
    if (n === 0) {
      // JetStream's answer while a stream has no leader: 503, retried by the same msgID.
      req.msg.respond(JSON.stringify({ error: { code: 503, err_code: 10008, description: "JetStream system temporarily unavailable" } }));
      return;
    }
    ack(req.msg, n);
    answer(fake, req.replyTo, ok(req.id, "front-door"), req.hash);
  });
  const service = await startFrontDoor(nc, createLogger("silent"), ["_INBOX.>"]);
  await nc.flush(); // the front door's subscription has reached the server before another connection asks it
  const envelope = JSON.stringify({ v: 1, text: "a thing", image: { data: Buffer.from(IMAGE).toString("base64") } });
  const reply = await client.request(SERVICE_SUBJECT, envelope, { timeout: 10_000 }).finally(() => service.stop());
  const verdict = reply.json<OkVerdict>();
  assert.equal(verdict.ok, true, JSON.stringify(verdict));
  assert.equal(verdict.worker, "front-door");
});
