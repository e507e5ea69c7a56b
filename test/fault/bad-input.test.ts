/**
 * The bad-input matrix of issue 5, against one real nats-server and one real `serve` (tiny ONNX model).
 * Every malformed request gets exactly one typed error verdict with its stable code, on its reply subject and in
 * the verdict stream; it is termed on its first delivery, so it is never redelivered; it leaves one dead letter
 * with the reason and its original payload (a passed deadline leaves none: nothing was wrong with the request);
 * and the service stays healthy, on the same worker process, throughout.
 * Accepted image formats: JPEG, PNG and WebP (sniffed by magic bytes). Everything else is OFA_ERR_IMAGE_FORMAT.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect, createInbox, headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import { ClassifyError, IMAGE_BUCKET, OfaClient } from "@ofa-entail/client/source";
import {
  ERROR_SPECS, ErrorCode, Header, Lane, STREAMS, consumerName, decodeVerdictPayload, requestSubject,
  type DeadLetter, type RequestEnvelope, type Verdict,
} from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { jpeg } from "../harness/requests.ts";
import { until } from "../harness/wait.ts";
import { gif, noiseImage, png, pngPixelBomb, pngWithBadCrc, svg, truncatedJpeg, webp } from "../fixtures/bad-images.ts";
import { StreamTally } from "../fixtures/stream-tally.ts";

/** nats-server max_payload and the service's OFA_MAX_PAYLOAD_BYTES alike (nats-server's own default, 1 MiB). */
const MAX_PAYLOAD = 1024 * 1024;
/** Object-store images above this are refused unread (OFA_MAX_IMAGE_BYTES). */
const MAX_IMAGE_BYTES = 2 * MAX_PAYLOAD;
const MAX_TEXT_CHARS = 2000;
const WAIT_MS = 15_000;

interface Reply {
  readonly verdict: Verdict;
  readonly headers: MsgHdrs | undefined;
}

interface BadCase {
  readonly name: string;
  readonly id: string;
  readonly code: ErrorCode;
  readonly payload: () => Promise<string | Uint8Array> | string | Uint8Array;
  readonly headers?: Record<string, string>;
  /** What the verdict's message must say, where the code alone does not show the check that fired. */
  readonly message?: RegExp;
  /** For a policy list: the hypothesis the verdict must name in error.details.index. */
  readonly index?: number;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const body = (fields: Record<string, unknown>) => JSON.stringify(fields);
const withImage = async (image: Promise<Buffer> | Buffer, text = "a picture of something") => body({ v: 1, text, image: { data: b64(await image) } });
const goodImage = () => jpeg(64, 48, 5);
const list = async (hypotheses: unknown, extra: Record<string, unknown> = {}) => body({ v: 1, hypotheses, ...extra, image: { data: b64(await goodImage()) } });

const MATRIX: readonly BadCase[] = [
  { name: "a payload that is not JSON", id: "not-json", code: ErrorCode.PAYLOAD_JSON, payload: () => "{not json" },
  { name: "raw JPEG bytes sent as the payload", id: "raw-bytes", code: ErrorCode.PAYLOAD_JSON, payload: goodImage },
  { name: "a JSON array instead of an object", id: "json-array", code: ErrorCode.PAYLOAD_SCHEMA, payload: () => "[1,2,3]" },
  { name: "an envelope without a version", id: "no-version", code: ErrorCode.PAYLOAD_SCHEMA, payload: async () => body({ text: "x", image: { data: b64(await goodImage()) } }) },
  { name: "unknown schema version 2", id: "version-2", code: ErrorCode.SCHEMA_VERSION, payload: async () => body({ v: 2, text: "x", image: { data: b64(await goodImage()) } }) },
  { name: 'schema version "1" as a string', id: "version-string", code: ErrorCode.SCHEMA_VERSION, payload: async () => body({ v: "1", text: "x", image: { data: b64(await goodImage()) } }) },
  { name: "a missing text", id: "missing-text", code: ErrorCode.PAYLOAD_SCHEMA, payload: async () => body({ v: 1, image: { data: b64(await goodImage()) } }) },
  { name: "a missing image", id: "missing-image", code: ErrorCode.PAYLOAD_SCHEMA, payload: () => body({ v: 1, text: "a dog" }) },
  { name: "a text that is a number", id: "text-number", code: ErrorCode.PAYLOAD_SCHEMA, payload: async () => body({ v: 1, text: 42, image: { data: b64(await goodImage()) } }) },
  { name: "an image that is a bare string", id: "image-string", code: ErrorCode.PAYLOAD_SCHEMA, payload: async () => body({ v: 1, text: "x", image: b64(await goodImage()) }) },
  { name: "image data that is a number", id: "image-data-number", code: ErrorCode.PAYLOAD_SCHEMA, payload: () => body({ v: 1, text: "x", image: { data: 7 } }) },
  { name: "a premise that is an object", id: "premise-object", code: ErrorCode.PAYLOAD_SCHEMA, payload: async () => body({ v: 1, text: "x", premise: {}, image: { data: b64(await goodImage()) } }) },
  { name: "a deadline that is a string", id: "deadline-string", code: ErrorCode.PAYLOAD_SCHEMA, payload: async () => body({ v: 1, text: "x", deadline: "tomorrow", image: { data: b64(await goodImage()) } }) },
  { name: "an unknown extra field", id: "extra-field", code: ErrorCode.PAYLOAD_SCHEMA, payload: async () => body({ v: 1, text: "x", colour: "red", image: { data: b64(await goodImage()) } }) },
  { name: "an image with both data and ref", id: "data-and-ref", code: ErrorCode.PAYLOAD_SCHEMA, payload: async () => body({ v: 1, text: "x", image: { data: b64(await goodImage()), ref: { bucket: IMAGE_BUCKET, name: "a" } } }) },
  { name: "an empty text", id: "text-empty", code: ErrorCode.TEXT_EMPTY, payload: () => withImage(goodImage(), "") },
  { name: "a whitespace-only text", id: "text-blank", code: ErrorCode.TEXT_EMPTY, payload: () => withImage(goodImage(), " \t\n\u00a0\u3000 ") },
  { name: "a whitespace-only premise", id: "premise-blank", code: ErrorCode.TEXT_EMPTY, payload: async () => body({ v: 1, text: "x", premise: "   ", image: { data: b64(await goodImage()) } }) },
  { name: `a text over ${MAX_TEXT_CHARS} characters`, id: "text-long", code: ErrorCode.TEXT_TOO_LONG, payload: () => withImage(goodImage(), "a".repeat(MAX_TEXT_CHARS + 1)) },
  { name: `a premise over ${MAX_TEXT_CHARS} characters`, id: "premise-long", code: ErrorCode.TEXT_TOO_LONG, payload: async () => body({ v: 1, text: "x", premise: "b".repeat(MAX_TEXT_CHARS + 1), image: { data: b64(await goodImage()) } }) },
  // Policy lists (hypotheses): a fault in one hypothesis names it.
  { name: "a policy list with one empty hypothesis", id: "list-item-empty", code: ErrorCode.TEXT_EMPTY, payload: () => list(["a dog", "a cat", "  ", "a bird"]), index: 2, message: /hypotheses\[2\]/ },
  { name: `a policy list with one hypothesis over ${MAX_TEXT_CHARS} characters`, id: "list-item-long", code: ErrorCode.TEXT_TOO_LONG, payload: () => list(["a dog", "a".repeat(MAX_TEXT_CHARS + 1)]), index: 1 },
  { name: "a policy list of 17 hypotheses (limit 16)", id: "list-too-many", code: ErrorCode.TOO_MANY_HYPOTHESES, payload: () => list(Array.from({ length: 17 }, (_, i) => `claim ${i}`)) },
  { name: "an empty policy list", id: "list-empty", code: ErrorCode.PAYLOAD_SCHEMA, payload: () => list([]) },
  { name: "a request with both text and hypotheses", id: "list-and-text", code: ErrorCode.PAYLOAD_SCHEMA, payload: () => list(["a dog"], { text: "a cat" }) },
  { name: "a policy list with a number in it", id: "list-number", code: ErrorCode.PAYLOAD_SCHEMA, payload: () => list(["a dog", 7]) },
  { name: "image data that is not base64", id: "base64-garbage", code: ErrorCode.IMAGE_BASE64, payload: () => body({ v: 1, text: "x", image: { data: "this is not base64!" } }) },
  { name: "image data in base64url, not standard base64", id: "base64-url", code: ErrorCode.IMAGE_BASE64, payload: () => body({ v: 1, text: "x", image: { data: "_-8A" } }) },
  { name: "image data with broken padding", id: "base64-padding", code: ErrorCode.IMAGE_BASE64, payload: () => body({ v: 1, text: "x", image: { data: "/9j" } }) },
  { name: "a zero-byte image", id: "image-empty", code: ErrorCode.IMAGE_EMPTY, payload: () => body({ v: 1, text: "x", image: { data: "" } }) },
  { name: "a truncated JPEG", id: "jpeg-truncated", code: ErrorCode.IMAGE_DECODE, payload: () => withImage(truncatedJpeg()) },
  { name: "a PNG whose IHDR chunk fails its CRC", id: "png-crc-ihdr", code: ErrorCode.IMAGE_DECODE, payload: () => withImage(pngWithBadCrc("IHDR")) },
  { name: "a PNG whose IDAT chunk fails its CRC", id: "png-crc-idat", code: ErrorCode.IMAGE_DECODE, payload: () => withImage(pngWithBadCrc("IDAT")) },
  { name: "a GIF (not an accepted format)", id: "format-gif", code: ErrorCode.IMAGE_FORMAT, payload: () => withImage(gif()) },
  { name: "an SVG (not an accepted format)", id: "format-svg", code: ErrorCode.IMAGE_FORMAT, payload: () => withImage(svg()) },
  { name: "plain text posing as an image", id: "format-text", code: ErrorCode.IMAGE_FORMAT, payload: () => withImage(Buffer.from("hello, I am not an image")) },
  // Refused from the IHDR, before a pixel is decoded: the message quotes the declared size.
  { name: "a 20000×20000 PNG pixel bomb", id: "pixel-bomb", code: ErrorCode.IMAGE_TOO_LARGE, payload: () => withImage(pngPixelBomb()), message: /20000×20000 = 400000000 pixels/ },
  { name: "an object-store reference to a missing object", id: "ref-missing-object", code: ErrorCode.IMAGE_REF_NOT_FOUND, payload: () => body({ v: 1, text: "x", image: { ref: { bucket: IMAGE_BUCKET, name: "no-such-object" } } }) },
  { name: "an object-store reference to a missing bucket", id: "ref-missing-bucket", code: ErrorCode.IMAGE_REF_NOT_FOUND, payload: () => body({ v: 1, text: "x", image: { ref: { bucket: "no-such-bucket", name: "x" } } }) },
];

describe("bad input - every malformed request gets one typed error verdict, is termed, dead-lettered and never redelivered", () => {
  let ns: NatsServer;
  let service: Service;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let verdicts: StreamTally<Verdict>;
  let deadLetters: StreamTally<DeadLetter>;
  let workerPid: number | undefined;
  const inbox = createInbox();
  const replies = new Map<string, Reply[]>();

  before(async () => {
    ns = await NatsServer.start({ maxPayload: String(MAX_PAYLOAD) });
    service = await Service.start(ns.url, {
      OFA_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD),
      OFA_MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES),
      OFA_MAX_TEXT_CHARS: String(MAX_TEXT_CHARS),
    });
    await service.waitReady();
    workerPid = (await service.status()).workers[0]?.pid;
    nc = await connect({ servers: ns.url });
    jsm = await jetstreamManager(nc);
    nc.subscribe(`${inbox}.*`, {
      callback: (_err, m) => {
        const id = m.subject.slice(inbox.length + 1);
        replies.set(id, [...(replies.get(id) ?? []), { verdict: decodeVerdictPayload(m.data), headers: m.headers }]);
      },
    });
    verdicts = await StreamTally.start(nc, STREAMS.verdicts, (data) => decodeVerdictPayload(data));
    deadLetters = await StreamTally.start(nc, STREAMS.deadLetters, (data) => JSON.parse(Buffer.from(data).toString()) as DeadLetter);
  });
  after(async () => {
    verdicts?.stop();
    deadLetters?.stop();
    await nc?.close();
    await service?.stop();
    await ns?.stop();
  });

  async function publish(id: string, payload: string | Uint8Array, extra: Record<string, string> = {}): Promise<number> {
    const h = natsHeaders();
    h.set(Header.ReplyTo, `${inbox}.${id}`);
    for (const [k, v] of Object.entries(extra)) h.set(k, v);
    return (await jetstream(nc).publish(requestSubject(Lane.interactive), payload, { msgID: id, headers: h })).seq;
  }

  /** The request left the work queue (acked or termed) and nothing of the lane is pending or held. */
  async function settled(id: string, seq: number): Promise<void> {
    await until(async () => (await jsm.streams.getMessage(STREAMS.requests, { seq }).catch(() => null)) === null, {
      name: `${id}: request seq ${seq} removed from ${STREAMS.requests}`,
      timeoutMs: WAIT_MS,
    });
    const info = await jsm.consumers.info(STREAMS.requests, consumerName(Lane.interactive));
    assert.equal(info.num_ack_pending, 0, `${id}: nothing held un-acked`);
    assert.equal(info.num_pending, 0, `${id}: nothing waiting for delivery`);
    assert.equal((await jsm.streams.info(STREAMS.requests)).state.messages, 0, `${id}: request stream empty`);
  }

  async function assertHealthy(): Promise<void> {
    assert.equal((await service.get("/healthz")).status, 200, "/healthz");
    assert.equal((await service.get("/readyz")).status, 200, "/readyz");
    const { workers } = await service.status();
    assert.deepEqual(workers.map((w) => [w.pid, w.state, w.restarts]), [[workerPid, "ready", 0]], "the same worker, never restarted");
  }

  /** Publishes one bad request and checks everything issue 5 promises for it. */
  async function expectRejected(c: BadCase, deadLetter: boolean): Promise<void> {
    const payload = await c.payload();
    const seq = await publish(c.id, payload, c.headers);
    await until(() => replies.has(c.id), { name: `${c.id}: error verdict on its reply subject`, timeoutMs: WAIT_MS });
    await settled(c.id, seq);
    await Promise.all([verdicts.caughtUp(jsm), deadLetters.caughtUp(jsm)]);

    const got = replies.get(c.id)!;
    assert.equal(got.length, 1, `${c.id}: exactly one reply`);
    const { verdict, headers } = got[0]!;
    assert.equal(verdict.ok, false, `${c.id}: an error verdict`);
    if (verdict.ok) return;
    assert.equal(verdict.error.code, c.code, `${c.id}: ${verdict.error.message}`);
    assert.equal(verdict.error.retryable, false);
    if (c.message) assert.match(verdict.error.message, c.message);
    assert.equal(verdict.error.details?.index, c.index, `${c.id}: the hypothesis named in error.details`);
    assert.equal(verdict.id, c.id);
    assert.equal(verdict.deliveries, 1, "answered on the first delivery");
    assert.equal(headers?.get(Header.ErrorCode), c.code);
    assert.equal(headers?.get(Header.ServiceErrorCode), String(ERROR_SPECS[c.code].status));
    assert.deepEqual(verdicts.get(c.id), [verdict], `${c.id}: the same verdict, once, in ${STREAMS.verdicts}`);

    const letters = deadLetters.get(c.id);
    if (!deadLetter) {
      assert.deepEqual(letters, [], `${c.id}: no dead letter`);
    } else {
      assert.equal(letters.length, 1, `${c.id}: one dead letter`);
      const record = letters[0]!;
      assert.equal(record.code, c.code);
      assert.equal(record.reason, verdict.error.message, "the reason the caller was given");
      assert.deepEqual(Buffer.from(record.payload, "base64"), Buffer.from(payload), "the original payload, byte for byte");
      assert.equal(record.deliveries, 1);
      assert.equal(record.streamSeq, seq);
      assert.equal(record.subject, requestSubject(Lane.interactive));
      assert.equal(record.headers[Header.MsgId], c.id);
    }
    await assertHealthy();
  }

  /** Publishes one good request and returns its verdict once the request has left the stream. */
  async function expectAnswered(id: string, payload: string): Promise<Verdict> {
    const seq = await publish(id, payload);
    await until(() => replies.has(id), { name: `${id}: verdict on its reply subject`, timeoutMs: WAIT_MS });
    await settled(id, seq);
    const verdict = replies.get(id)![0]!.verdict;
    assert.equal(verdict.ok, true, `${id}: ${JSON.stringify(verdict)}`);
    return verdict;
  }

  for (const c of MATRIX) {
    test(`bad input - ${c.name} gets ${c.code} once, is dead-lettered with its payload, and is not redelivered`, () => expectRejected(c, true));
  }

  test("bad input - 58 headers of 1,024 control characters and a 710 KB payload get OFA_ERR_PAYLOAD_SCHEMA once AND a dead letter (the record is bounded to fit one message)", async () => {
    // The attack of issue 24: escaped in JSON (×6) the headers made the dead letter exceed max_payload; the publish
    // failed, the request was handed back, the redelivery found the stored verdict: two replies and no dead letter.
    const headers = Object.fromEntries(Array.from({ length: 58 }, (_, i) => [`X-Junk-${i}`, "\u0001".repeat(1024)]));
    const counted = await service.metric(`ofa_dead_letters_total{code="${ErrorCode.PAYLOAD_SCHEMA}"}`);
    const payload = body({ v: 1, text: "x", junk: "A".repeat(710 * 1024), image: { data: b64(await goodImage()) } });
    await expectRejected({ name: "", id: "dlq-hostile-headers", code: ErrorCode.PAYLOAD_SCHEMA, payload: () => payload, headers }, true);
    const record = deadLetters.get("dlq-hostile-headers")[0]!;
    assert.ok((record.headersBytes ?? 0) > 58 * 1024, "the headers' original size is recorded");
    assert.ok((record.headersOmitted ?? 0) > 0, "headers past the record's budget are counted, not copied");
    assert.equal(await service.metric(`ofa_dead_letters_total{code="${ErrorCode.PAYLOAD_SCHEMA}"}`), counted + 1, "ofa_dead_letters_total moved");
    assert.equal(await service.metric(`ofa_dead_letter_publish_failures_total{code="${ErrorCode.PAYLOAD_SCHEMA}"}`), 0, "no dead-letter publish failed");
  });

  test("bad input - a deadline already past (Ofa-Deadline header) gets OFA_ERR_DEADLINE_EXCEEDED once, without a dead letter, and is not redelivered", () =>
    expectRejected(
      { name: "", id: "deadline-header", code: ErrorCode.DEADLINE_EXCEEDED, payload: () => withImage(goodImage()), headers: { [Header.Deadline]: String(Date.now() - 60_000) } },
      false,
    ));

  test("bad input - a deadline already past (envelope field) gets OFA_ERR_DEADLINE_EXCEEDED once, without a dead letter, and is not redelivered", () =>
    expectRejected(
      { name: "", id: "deadline-body", code: ErrorCode.DEADLINE_EXCEEDED, payload: async () => body({ v: 1, text: "x", deadline: Date.now() - 60_000, image: { data: b64(await goodImage()) } }) },
      false,
    ));

  test("bad input - a reference to another object-store bucket is refused with OFA_ERR_IMAGE_REF_NOT_FOUND; that object is neither read nor deleted", async () => {
    const foreign = await new Objm(nc).create("tenant-private");
    await foreign.putBlob({ name: "keep-me" }, await goodImage());
    await expectRejected(
      { name: "", id: "ref-foreign-bucket", code: ErrorCode.IMAGE_REF_NOT_FOUND, payload: () => body({ v: 1, text: "x", image: { ref: { bucket: "tenant-private", name: "keep-me" } } }) },
      true,
    );
    const info = await foreign.info("keep-me");
    assert.ok(info && !info.deleted, "the foreign object is still there");
  });

  test(`bad input - an object-store image over OFA_MAX_IMAGE_BYTES (${MAX_IMAGE_BYTES}) gets OFA_ERR_PAYLOAD_TOO_LARGE once and is not redelivered`, async () => {
    const os = await new Objm(nc).open(IMAGE_BUCKET);
    await os.putBlob({ name: "too-big" }, randomBytes(MAX_IMAGE_BYTES + 1));
    await expectRejected(
      { name: "", id: "ref-too-big", code: ErrorCode.PAYLOAD_TOO_LARGE, payload: () => body({ v: 1, text: "x", image: { ref: { bucket: IMAGE_BUCKET, name: "too-big" } } }) },
      true,
    );
  });

  test("accepted formats - a JPEG, a PNG and a WebP each get an ok verdict", async () => {
    for (const [id, image] of [["ok-jpeg", goodImage()], ["ok-png", png()], ["ok-webp", webp()]] as const) {
      await expectAnswered(id, await withImage(image));
    }
  });

  test("bad input - an image over max_payload is sent by the SDK by object-store reference, gets a normal verdict, and the object is deleted after", async () => {
    const image = await noiseImage(700, 600, "png");
    assert.ok(image.length > MAX_PAYLOAD, `the image (${image.length} bytes) is over max_payload`);
    const published: RequestEnvelope[] = [];
    const spy = nc.subscribe(requestSubject(Lane.interactive), { callback: (_e, m) => void published.push(JSON.parse(m.string()) as RequestEnvelope) });
    const client = new OfaClient(nc);
    const verdict = await client.send({ image, text: "static on a television", id: "big-by-ref", timeoutMs: WAIT_MS });
    client.close();
    spy.unsubscribe();
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
    assert.equal(verdict.id, "big-by-ref");
    const sent = published.find((e) => e.id === "big-by-ref");
    assert.ok(sent && "ref" in sent.image, "the request carried a reference, not the bytes");
    assert.equal(sent.image.ref.bucket, IMAGE_BUCKET);
    const os = await new Objm(nc).open(IMAGE_BUCKET);
    const name = sent.image.ref.name;
    await until(async () => {
      const info = await os.info(name);
      return info === null || info.deleted;
    }, { name: `object ${name} deleted once answered`, timeoutMs: WAIT_MS });
    await assertHealthy();
  });

  test('bad input - with largeImages: "refuse" the SDK refuses an image over max_payload with OFA_ERR_PAYLOAD_TOO_LARGE before sending anything', async () => {
    const image = await noiseImage(700, 600, "png");
    const lastSeq = (await jsm.streams.info(STREAMS.requests)).state.last_seq;
    const published: string[] = [];
    const spy = nc.subscribe(requestSubject(Lane.interactive), { callback: (_e, m) => void published.push(m.string()) });
    const client = new OfaClient(nc, { largeImages: "refuse" });
    await assert.rejects(client.send({ image, text: "static", id: "big-refused", timeoutMs: WAIT_MS }), (err: unknown) => {
      assert.ok(err instanceof ClassifyError);
      assert.equal(err.code, ErrorCode.PAYLOAD_TOO_LARGE);
      assert.equal(err.requestId, "big-refused");
      return true;
    });
    client.close();
    await nc.flush(); // anything this connection published has reached the spy by now
    spy.unsubscribe();
    assert.deepEqual(published, [], "nothing was published");
    assert.equal((await jsm.streams.info(STREAMS.requests)).state.last_seq, lastSeq, "nothing entered the request stream");
    const objects = await (await new Objm(nc).open(IMAGE_BUCKET)).list();
    assert.ok(!objects.some((o) => o.name.startsWith("big-refused")), "nothing was uploaded");
    assert.ok(!replies.has("big-refused") && verdicts.get("big-refused").length === 0, "no verdict");
  });

  test("bad input - an inline image the request stream refuses (its max_msg_size below max_payload) goes by reference; with refuse it is OFA_ERR_PAYLOAD_TOO_LARGE, not retryable", async () => {
    const limit = (await jsm.streams.info(STREAMS.requests)).config.max_msg_size;
    const small = 256 * 1024;
    await jsm.streams.update(STREAMS.requests, { max_msg_size: small });
    try {
      const image = await noiseImage(300, 300, "png");
      assert.ok(image.length > small && (image.length * 4) / 3 < MAX_PAYLOAD / 2, `${image.length} bytes: over the stream's limit, well under max_payload`);
      const byRef = new OfaClient(nc);
      const verdict = await byRef.send({ image, text: "static", id: "stream-limit-by-ref", timeoutMs: WAIT_MS });
      byRef.close();
      assert.equal(verdict.ok, true, JSON.stringify(verdict));
      const refusing = new OfaClient(nc, { largeImages: "refuse" });
      await assert.rejects(refusing.send({ image, text: "static", id: "stream-limit-refused", timeoutMs: WAIT_MS }), (err: unknown) => {
        assert.ok(err instanceof ClassifyError, String(err));
        assert.equal(err.code, ErrorCode.PAYLOAD_TOO_LARGE, err.message);
        assert.equal(err.retryable, false);
        return true;
      });
      refusing.close();
    } finally {
      await jsm.streams.update(STREAMS.requests, { max_msg_size: limit });
    }
    await assertHealthy();
  });

  test("bad input - after the whole matrix the same worker still answers, nothing was redelivered, and every rejection was counted", async () => {
    await expectAnswered("after-matrix", await withImage(jpeg(200, 150, 9), "a plain coloured square"));
    await assertHealthy();
    assert.equal(await service.metric("ofa_redeliveries_total"), 0, "no request was delivered twice");
    assert.equal(await service.metric("ofa_naks_total"), 0, "no request was handed back for a retry");
    const decodeErrors = MATRIX.filter((c) => c.code === ErrorCode.IMAGE_DECODE).length;
    assert.equal(await service.metric(`ofa_verdicts_total{outcome="error",code="${ErrorCode.IMAGE_DECODE}"}`), decodeErrors);
    assert.equal(await service.metric(`ofa_dead_letters_total{code="${ErrorCode.DEADLINE_EXCEEDED}"}`), 0);
  });
});
