/**
 * Issue 10's fuzz suite (fast-check): generated requests — envelopes, texts, ids, and the headers a caller controls
 * (Nats-Msg-Id, Ofa-Reply-To, Ofa-Deadline) — against one real nats-server and one real `serve` (tiny model).
 * For every request: it leaves the request stream on its first delivery (never nak'ed, never redelivered), the verdict
 * stream gains exactly one verdict and the dead letters at most one record, and an allow-listed reply subject gets
 * exactly one reply. Afterwards the service is ready on the same worker and no stream but the service's own changed
 * (a foreign stream is the target of poisoned reply subjects).
 * Bounded: a fixed number of runs from a fixed seed (FUZZ_SEED / FUZZ_RUNS override), each request settled before the
 * next, so a failure names a reproducible counterexample and the suite takes seconds.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { connect, headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Header, Lane, STREAMS, consumerName, requestSubject } from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { jpeg } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const WAIT_MS = 15_000;
const FOREIGN = "FUZZ_FOREIGN";
const REPLY_PREFIX = "_INBOX.fuzz";

/** A header value nats.js can carry (no CR/LF; it trims the ends itself). */
const headerText = (maxLength: number) => fc.string({ unit: "binary", maxLength }).map((s) => s.replace(/[\r\n]/g, ""));

interface Generated {
  readonly msgId: string | undefined;
  readonly replyTo: { kind: "inbox" } | { kind: "other"; subject: string } | undefined;
  readonly deadline: string | undefined;
  readonly body: (image: string, unique: string) => string;
}

const POISON = [
  `$JS.API.STREAM.PURGE.${FOREIGN}`,
  `$JS.API.STREAM.DELETE.${FOREIGN}`,
  `$JS.API.STREAM.PURGE.${STREAMS.deadLetters}`,
  "foreign.data",
  "$KV.bucket.key",
  "$SYS.REQ.SERVER.PING",
  requestSubject(Lane.bulk),
  "ofa.ve.verdict.someone",
  "foo bar",
  "_INBOX.>",
  "_INBOX.*",
  "",
];

const msgId: fc.Arbitrary<Generated["msgId"]> = fc.oneof(
  fc.constant(undefined),
  fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/),
  headerText(200),
  fc.integer({ min: 129, max: 5_000 }).map((n) => "i".repeat(n)),
);

const replyTo: fc.Arbitrary<Generated["replyTo"]> = fc.oneof(
  fc.constant(undefined),
  fc.constant({ kind: "inbox" as const }),
  fc.constantFrom(...POISON).map((subject) => ({ kind: "other" as const, subject })),
  headerText(80).map((subject) => ({ kind: "other" as const, subject })),
  fc.integer({ min: 257, max: 5_000 }).map((n) => ({ kind: "other" as const, subject: `_INBOX.${"r".repeat(n)}` })),
);

const deadline: fc.Arbitrary<Generated["deadline"]> = fc.oneof(
  fc.constant(undefined),
  fc.constant("future"),
  fc.constantFrom("-1e16", "-10000000000000000", "1e400", "abc", "1.5", "NaN", "Infinity", "0", "99999999999999999"),
  headerText(30),
  fc.double().map(String),
);

const text = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: "binary", maxLength: 300 }), fc.constantFrom("", "   ", "\u3000"), fc.constant("a".repeat(2_001)));

const body: fc.Arbitrary<Generated["body"]> = fc.oneof(
  // a well-formed envelope with a generated text, maybe an id and a deadline of any type
  fc.record({ text, id: fc.option(fc.oneof(fc.string({ maxLength: 40 }), fc.constant("z".repeat(200)))), deadline: fc.option(fc.oneof(fc.double(), fc.integer(), fc.string({ maxLength: 10 }))) }).map(
    (r) => (image: string, unique: string) =>
      JSON.stringify({ v: 1, text: r.text, image: { data: image }, ...(r.id === null ? {} : { id: r.id === "" ? "" : `${unique}-${r.id}` }), ...(r.deadline === null ? {} : { deadline: r.deadline }) }),
  ),
  // any JSON value at all
  fc.jsonValue({ maxDepth: 3 }).map((v) => () => JSON.stringify(v)),
  // envelopes with broken fields
  fc.record({ v: fc.oneof(fc.constant(1), fc.anything({ maxDepth: 1 })), image: fc.anything({ maxDepth: 2 }), text: fc.anything({ maxDepth: 1 }) }).map((r) => () => JSON.stringify(r) ?? "null"),
  // not JSON
  fc.string({ unit: "binary", maxLength: 200 }).map((s) => () => s),
);

const request: fc.Arbitrary<Generated> = fc.record({ msgId, replyTo, deadline, body });

describe("security - fuzz: generated requests against a real service", () => {
  let ns: NatsServer;
  let service: Service;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let image: string;
  const replies = new Map<string, number>();

  before(async () => {
    ns = await NatsServer.start();
    service = await Service.start(ns.url, { OFA_CACHE_TTL_MS: "0" });
    await service.waitReady();
    nc = await connect({ servers: ns.url });
    jsm = await jetstreamManager(nc);
    image = (await jpeg(32, 24, 9)).toString("base64");
    await jsm.streams.add({ name: FOREIGN, subjects: ["foreign.>"] });
    for (let i = 0; i < 3; i++) await jetstream(nc).publish("foreign.data", `kept ${i}`);
    nc.subscribe(`${REPLY_PREFIX}.>`, { callback: (_e, m) => void replies.set(m.subject, (replies.get(m.subject) ?? 0) + 1) });
  });
  after(async () => {
    await nc?.close();
    await service?.stop();
    await ns?.stop();
  });

  test(`security - fuzz: ${RUNS} generated requests (seed ${SEED}) each end in exactly one verdict within one delivery; nothing foreign changes`, async () => {
    const workerPid = (await service.status()).workers[0]!.pid;
    const foreignBefore = (await jsm.streams.info(FOREIGN)).state;
    const namesBefore = await streamNames();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(request, async (g) => {
        run += 1;
        const unique = `f${run}`;
        const h = natsHeaders();
        // Ids are made unique per run where they are valid, so every request is a new id (repeats have their own tests).
        if (g.msgId !== undefined) h.set(Header.MsgId, /^[A-Za-z0-9_.:-]{1,40}$/.test(g.msgId) ? `${unique}-${g.msgId}` : g.msgId);
        const inbox = `${REPLY_PREFIX}.${unique}`;
        if (g.replyTo) h.set(Header.ReplyTo, g.replyTo.kind === "inbox" ? inbox : g.replyTo.subject);
        if (g.deadline !== undefined) h.set(Header.Deadline, g.deadline === "future" ? String(Date.now() + 60_000) : g.deadline);
        const verdictsBefore = (await jsm.streams.info(STREAMS.verdicts)).state.last_seq;
        const deadBefore = (await jsm.streams.info(STREAMS.deadLetters)).state.last_seq;
        const ack = await jetstream(nc).publish(requestSubject(Lane.interactive), g.body(image, unique), { headers: h });
        if (ack.duplicate) return; // an id the generator produced twice without a unique prefix: nothing new was queued
        await until(async () => (await jsm.streams.getMessage(STREAMS.requests, { seq: ack.seq }).catch(() => null)) === null, {
          name: `run ${run}: request seq ${ack.seq} settled`,
          timeoutMs: WAIT_MS,
        });
        const consumer = await jsm.consumers.info(STREAMS.requests, consumerName(Lane.interactive));
        assert.equal(consumer.num_redelivered, 0, "settled on its first delivery: never nak'ed or redelivered");
        assert.equal((await jsm.streams.info(STREAMS.verdicts)).state.last_seq, verdictsBefore + 1, "exactly one new verdict");
        assert.ok((await jsm.streams.info(STREAMS.deadLetters)).state.last_seq <= deadBefore + 1, "at most one dead letter");
        if (g.replyTo?.kind === "inbox") {
          await until(() => replies.has(inbox), { name: `run ${run}: reply on ${inbox}`, timeoutMs: WAIT_MS });
          assert.equal(replies.get(inbox), 1, "exactly one reply");
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
    );
    assert.equal((await service.get("/readyz")).status, 200, "still ready");
    const { workers } = await service.status();
    assert.deepEqual(workers.map((w) => [w.pid, w.restarts]), [[workerPid, 0]], "the same worker, never restarted");
    assert.deepEqual((await jsm.streams.info(FOREIGN)).state, foreignBefore, "the foreign stream is untouched");
    assert.deepEqual(await streamNames(), namesBefore, "no stream created or deleted");
  });

  async function streamNames(): Promise<string[]> {
    const names: string[] = [];
    for await (const name of jsm.streams.names()) names.push(name);
    return names.sort();
  }
});
