/**
 * Issue 10, observations 1–4, against one real nats-server and one real `serve` (tiny model): what a careless or
 * hostile caller's headers can do. Each test reproduces one observation and fails on the code before the fix.
 *  1. A reply subject is data: `$JS.API.…`, `$KV.…`, the service's own subjects are never published to.
 *  2. A malformed or oversized reply subject or id cannot wedge a request: one typed verdict, one dead letter, first
 *     delivery, and the worker's connection survives.
 *  3. One verdict per id: a repeat (inside or after the de-duplication window) gets the stored verdict at once; other
 *     content under the same id gets OFA_ERR_ID_CONFLICT; the verdict stream never holds two verdicts for one id.
 *  4. Absurd deadlines are OFA_ERR_DEADLINE_INVALID once, never retried.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect, createInbox, headers as natsHeaders, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { ClassifyError, OfaClient } from "@ofa-entail/client/source";
import {
  ErrorCode, Header, Lane, SERVICE_SUBJECT, STREAMS, consumerName, decodeVerdictPayload, requestSubject, verdictSubject,
  type DeadLetter, type Verdict,
} from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { envelope, jpeg } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";
import { StreamTally } from "../fixtures/stream-tally.ts";

const WAIT_MS = 20_000;
const NS = 1_000_000;

describe("security - trust boundary (issue 10)", () => {
  let ns: NatsServer;
  let service: Service;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let client: OfaClient;
  let deadLetters: StreamTally<DeadLetter>;
  let image: Buffer;
  let workerPid: number;
  const inbox = createInbox();
  const replies = new Map<string, Verdict[]>();

  before(async () => {
    ns = await NatsServer.start();
    service = await Service.start(ns.url, { OFA_CACHE_TTL_MS: "0" });
    await service.waitReady();
    nc = await connect({ servers: ns.url });
    jsm = await jetstreamManager(nc);
    client = new OfaClient(nc);
    image = await jpeg(64, 48, 3);
    workerPid = (await service.status()).workers[0]!.pid;
    nc.subscribe(`${inbox}.*`, {
      callback: (_err, msg: Msg) => {
        const key = msg.subject.slice(inbox.length + 1);
        replies.set(key, [...(replies.get(key) ?? []), decodeVerdictPayload(msg.data)]);
      },
    });
    deadLetters = await StreamTally.start(nc, STREAMS.deadLetters, (data) => JSON.parse(Buffer.from(data).toString()) as DeadLetter);
  });
  after(async () => {
    deadLetters?.stop();
    client?.close();
    await nc?.close();
    await service?.stop();
    await ns?.stop();
  });

  /** A raw publish with exactly the headers given (no SDK): returns the request's stream sequence. */
  async function raw(headers: Record<string, string>, payload: string): Promise<number> {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(headers)) h.set(k, v);
    return (await jetstream(nc).publish(requestSubject(Lane.interactive), payload, { headers: h })).seq;
  }

  async function verdictsFor(id: string): Promise<Verdict[]> {
    const subject = verdictSubject(id);
    const info = await jsm.streams.info(STREAMS.verdicts, { subjects_filter: subject });
    const count = info.state.subjects?.[subject] ?? 0;
    if (count === 0) return [];
    const last = await jsm.streams.getMessage(STREAMS.verdicts, { last_by_subj: subject });
    return Array.from({ length: count }, () => decodeVerdictPayload(last!.data));
  }

  /** The request left the work queue on its first delivery: no redelivery, nothing pending or held. */
  async function settledOnFirstDelivery(seq: number): Promise<void> {
    await until(async () => (await jsm.streams.getMessage(STREAMS.requests, { seq }).catch(() => null)) === null, { name: `request seq ${seq} removed`, timeoutMs: WAIT_MS });
    const info = await jsm.consumers.info(STREAMS.requests, consumerName(Lane.interactive));
    assert.equal(info.num_redelivered, 0, "never redelivered");
    assert.equal(info.num_ack_pending, 0, "nothing held");
  }

  async function expectOneErrorVerdict(id: string, code: ErrorCode, seq: number, deadLetter = true): Promise<Verdict> {
    await until(async () => (await verdictsFor(id)).length > 0, { name: `${id}: a verdict in ${STREAMS.verdicts}`, timeoutMs: WAIT_MS });
    await settledOnFirstDelivery(seq);
    const [verdict, ...more] = await verdictsFor(id);
    assert.equal(more.length, 0, `${id}: one verdict`);
    assert.equal(verdict!.ok ? "ok" : verdict!.error.code, code, `${id}: ${JSON.stringify(verdict)}`);
    if (deadLetter) {
      await deadLetters.caughtUp(jsm);
      assert.deepEqual(deadLetters.get(id).map((d) => d.code), [code], `${id}: one dead letter`);
    }
    return verdict!;
  }

  async function assertServing(): Promise<void> {
    assert.equal((await service.get("/readyz")).status, 200);
    const { workers } = await service.status();
    assert.deepEqual(workers.map((w) => [w.pid, w.restarts]), [[workerPid, 0]], "the same worker, never restarted");
    // Issue 10 saw the broker drop the worker's connection on a 5000-character subject ("maximum control line").
    assert.deepEqual(service.lines.filter((l) => l.msg === "NATS connection changed"), [], "no connection was dropped");
    const v = await client.send({ image, text: `still serving ${Date.now()}`, timeoutMs: WAIT_MS });
    assert.equal(v.ok, true);
  }

  test("security - observation 1: a reply subject aimed at the broker's API or the service's own subjects is never published to", async () => {
    const seedSeq = await raw({ [Header.MsgId]: "seed-dead-letter" }, "{not json");
    await expectOneErrorVerdict("seed-dead-letter", ErrorCode.PAYLOAD_JSON, seedSeq);
    const before = await jsm.streams.info(STREAMS.deadLetters);
    const targets = [
      `$JS.API.STREAM.PURGE.${STREAMS.deadLetters}`,
      `$JS.API.STREAM.DELETE.${STREAMS.verdicts}`,
      "$KV.ofa-ve-verdict-cache.x",
      "$SYS.REQ.SERVER.PING",
      requestSubject(Lane.bulk),
      verdictSubject("someone-else"),
    ];
    for (const [i, target] of targets.entries()) {
      const id = `poison-${i}`;
      const seq = await raw({ [Header.MsgId]: id, [Header.ReplyTo]: target }, envelope(image, "a picture"));
      const v = await expectOneErrorVerdict(id, ErrorCode.REPLY_SUBJECT, seq);
      assert.match(v.ok ? "" : v.error.message, /not allowed/);
    }
    const afterInfo = await jsm.streams.info(STREAMS.deadLetters);
    assert.equal(afterInfo.state.first_seq, before.state.first_seq, "the dead letters were not purged");
    assert.equal(afterInfo.state.messages, before.state.messages + targets.length, "every poisoned request was dead-lettered");
    assert.ok(await jsm.streams.info(STREAMS.verdicts), "the verdict stream still exists");
    assert.deepEqual(await verdictsFor("someone-else"), [], "nothing was written under another id");
    assert.equal((await jsm.streams.info(STREAMS.requests)).state.messages, 0, "nothing was fed into the request stream");
    await assertServing();
  });

  test("security - observation 2: a malformed or oversized reply subject or id gets one typed verdict on the first delivery, never wedges", async () => {
    const cases: Array<{ id: string; headers: Record<string, string>; code: ErrorCode; verdictId?: (seq: number) => string }> = [
      { id: "reply-space", headers: { [Header.ReplyTo]: "foo bar" }, code: ErrorCode.REPLY_SUBJECT },
      { id: "reply-wildcard", headers: { [Header.ReplyTo]: "_INBOX.>" }, code: ErrorCode.REPLY_SUBJECT },
      { id: "reply-long", headers: { [Header.ReplyTo]: `_INBOX.${"r".repeat(5_000)}` }, code: ErrorCode.REPLY_SUBJECT },
      { id: "x".repeat(5_000), headers: { [Header.ReplyTo]: `${inbox}.long-id` }, code: ErrorCode.REQUEST_ID, verdictId: (seq) => `seq-${seq}` },
      { id: "y".repeat(129), headers: {}, code: ErrorCode.REQUEST_ID, verdictId: (seq) => `seq-${seq}` },
    ];
    for (const c of cases) {
      const seq = await raw({ [Header.MsgId]: c.id, ...c.headers }, envelope(image, "a picture"));
      const id = c.verdictId?.(seq) ?? c.id;
      await expectOneErrorVerdict(id, c.code, seq);
    }
    await until(() => (replies.get("long-id")?.length ?? 0) > 0, { name: "the long id's caller is answered", timeoutMs: WAIT_MS });
    assert.equal(replies.get("long-id")![0]!.ok ? "ok" : (replies.get("long-id")![0] as { error: { code: string } }).error.code, ErrorCode.REQUEST_ID);
    // An id in the body follows the same rule.
    const seq = await raw({}, JSON.stringify({ v: 1, id: "tab\there", text: "x", image: { data: image.toString("base64") } }));
    await expectOneErrorVerdict(`seq-${seq}`, ErrorCode.REQUEST_ID, seq, false);
    await assertServing();
  });

  test("security - observation 3: a repeated id inside the window is answered at once with the stored verdict; other content gets OFA_ERR_ID_CONFLICT", async () => {
    const first = await client.send({ image, text: "two birds", id: "repeat-1", timeoutMs: 60_000 });
    assert.equal(first.ok, true);
    const started = Date.now();
    const again = await client.send({ image, text: "two birds", id: "repeat-1", timeoutMs: 60_000 });
    assert.ok(Date.now() - started < 15_000, `answered at once, not at the 60 s timeout (${Date.now() - started} ms)`);
    assert.deepEqual(again, first, "the stored verdict, not a new one");

    const conflict = await client.send({ image, text: "three cats", id: "repeat-1", timeoutMs: 60_000 }).then(() => undefined, (e: unknown) => e);
    assert.ok(conflict instanceof ClassifyError && conflict.code === ErrorCode.ID_CONFLICT, `conflict: ${String(conflict)}`);

    // A raw caller through the front door: the repeat gets the same reply, not silence.
    const h = natsHeaders();
    h.set(Header.MsgId, "door-repeat");
    const payload = envelope(image, "a door");
    const a = decodeVerdictPayload((await nc.request(SERVICE_SUBJECT, payload, { headers: h, timeout: WAIT_MS })).data);
    const b = decodeVerdictPayload((await nc.request(SERVICE_SUBJECT, payload, { headers: h, timeout: WAIT_MS })).data);
    assert.deepEqual(b, a);
    const c = decodeVerdictPayload((await nc.request(SERVICE_SUBJECT, envelope(image, "another door"), { headers: h, timeout: WAIT_MS })).data);
    assert.equal(c.ok ? "ok" : c.error.code, ErrorCode.ID_CONFLICT);
    assert.equal((await verdictsFor("repeat-1")).length, 1);
    assert.equal((await verdictsFor("door-repeat")).length, 1);
  });

  test("security - observation 3: after the de-duplication windows, a repeat still gets the stored verdict and the stream keeps one verdict per id", async () => {
    // Shrink both windows to 1 s (the defaults are 2 min) so "after the window" takes a second, not minutes.
    const windows = new Map<string, number>();
    for (const name of [STREAMS.requests, STREAMS.verdicts]) {
      const { config } = await jsm.streams.info(name);
      windows.set(name, config.duplicate_window);
      await jsm.streams.update(name, { ...config, duplicate_window: 1_000 * NS });
    }
    try {
      const first = await client.send({ image, text: "late repeat", id: "late-1", timeoutMs: 60_000 });
      await new Promise((r) => setTimeout(r, 1_500)); // let both 1 s windows pass: nothing to wait on but the clock
      const again = await client.send({ image, text: "late repeat", id: "late-1", timeoutMs: 60_000 });
      assert.deepEqual(again, first, "the stored verdict");
      assert.equal((await verdictsFor("late-1")).length, 1, "one verdict for the id");

      await new Promise((r) => setTimeout(r, 1_500)); // past the window of the repeat's own publish too
      const seq = await raw({ [Header.MsgId]: "late-1", [Header.ReplyTo]: `${inbox}.late-conflict` }, envelope(image, "something else"));
      await until(() => replies.has("late-conflict"), { name: "the conflicting repeat is answered", timeoutMs: WAIT_MS });
      const reply = replies.get("late-conflict")![0]!;
      assert.equal(reply.ok ? "ok" : reply.error.code, ErrorCode.ID_CONFLICT);
      await settledOnFirstDelivery(seq);
      assert.equal((await verdictsFor("late-1")).length, 1, "still one verdict: the conflict went to its caller only");
      await deadLetters.caughtUp(jsm);
      assert.deepEqual(deadLetters.get("late-1").map((d) => d.code), [ErrorCode.ID_CONFLICT]);
    } finally {
      for (const [name, window] of windows) {
        const { config } = await jsm.streams.info(name);
        await jsm.streams.update(name, { ...config, duplicate_window: window });
      }
    }
  });

  test("security - observation 4: a deadline that is not whole epoch milliseconds in range is OFA_ERR_DEADLINE_INVALID once, never retried", async () => {
    const headerValues = ["-10000000000000000", "-1e16", "abc", "1e400", "1.5", "99999999999999999"];
    for (const [i, value] of headerValues.entries()) {
      const id = `deadline-header-${i}`;
      const seq = await raw({ [Header.MsgId]: id, [Header.Deadline]: value }, envelope(image, "on time"));
      await expectOneErrorVerdict(id, ErrorCode.DEADLINE_INVALID, seq);
    }
    for (const [i, value] of [-1e16, 1.5, 1e300].entries()) {
      const id = `deadline-body-${i}`;
      const seq = await raw({ [Header.MsgId]: id }, JSON.stringify({ v: 1, text: "on time", deadline: value, image: { data: image.toString("base64") } }));
      await expectOneErrorVerdict(id, ErrorCode.DEADLINE_INVALID, seq);
    }
    await assertServing();
  });
});
