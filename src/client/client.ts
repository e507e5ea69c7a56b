/**
 * The typed SDK. `classify()` publishes one request into the durable stream and waits for its verdict
 * on a reply subject it subscribed to *before* publishing (so no verdict can be missed).
 * One wildcard inbox subscription per client serves every request (a token per request), as nats.js muxes requests.
 */
import { createHash, randomUUID } from "node:crypto";
import { createInbox, headers as natsHeaders, type MsgHdrs, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import {
  ErrorCode,
  Header,
  IMAGE_BUCKET,
  Lane,
  OfaError,
  STREAMS,
  decodeAnyVerdict,
  payloadHash,
  requestIdProblem,
  requestSubject,
  sameRequest,
  waitForStoredVerdict,
  verdictSubject,
  type AnyVerdict,
  type ErrorVerdict,
  type ListVerdict,
  type OkVerdict,
  type RequestEnvelope,
  type Verdict,
} from "../protocol/index.ts";
import { publishFailureCode, classifyNatsError } from "../errors/classify-nats.ts";

/** Bytes kept free in a message for the JSON envelope and headers around the base64 image. */
const ENVELOPE_ALLOWANCE_BYTES = 16 * 1024;
/** First pause before re-sending a publish that failed transiently; grows per attempt up to 2 s. */
const PUBLISH_RETRY_MS = 250;

export interface ClassifyOptions {
  image: Uint8Array;
  text: string;
  premise?: string;
  /** How long to wait for the verdict. Default 30 000 ms. */
  timeoutMs?: number;
  /** Absolute deadline (Date or ms since epoch) after which the service answers DEADLINE_EXCEEDED without
   *  running the model. Default: now + timeoutMs. `false` sends none (e.g. bulk jobs read from the verdict stream). */
  deadline?: Date | number | false;
  /** Priority lane. Default interactive. */
  lane?: Lane;
  /** Request id (also the JetStream de-duplication id). Default a random UUID. */
  id?: string;
}

/** A policy list: one image, several hypotheses, one request and one verdict with a result per hypothesis. */
export interface ClassifyManyOptions extends Omit<ClassifyOptions, "text"> {
  /** 1 … OFA_MAX_HYPOTHESES (default 16) hypotheses, answered in this order; `premise` is shared by all. */
  hypotheses: readonly string[];
}

export interface ClientOptions {
  /** What to do with an image whose message would exceed the server's max_payload. Default "object-store". */
  largeImages?: "object-store" | "refuse";
}

/** An error verdict, or a client-side failure (timeout, overload), as a typed error with a stable code. */
export class ClassifyError extends OfaError {
  readonly requestId: string;
  readonly verdict?: ErrorVerdict;
  constructor(
    code: ErrorCode,
    message: string,
    requestId: string,
    verdict?: ErrorVerdict,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.requestId = requestId;
    this.verdict = verdict;
    this.name = "ClassifyError";
  }
}

/** What is asked about the image: one text, or a policy list. */
type Questions = { text: string } | { hypotheses: string[] };

interface Pending {
  readonly id: string;
  resolve(v: AnyVerdict): void;
}

export class OfaClient {
  private readonly js: JetStreamClient;
  /** Under the connection's inbox prefix (ConnectionOptions.inboxPrefix), which a caller's NATS user may be limited to. */
  private readonly inboxPrefix: string;
  private readonly sub: Subscription;
  private readonly pending = new Map<string, Pending>();
  private readonly statusEvents: AsyncIterable<{ type: string }>;

  private readonly nc: NatsConnection;
  private readonly opts: ClientOptions;
  constructor(
    nc: NatsConnection,
    opts: ClientOptions = {},
  ) {
    this.nc = nc;
    this.opts = opts;
    this.inboxPrefix = createInbox((nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
    this.js = jetstream(nc);
    this.statusEvents = nc.status();
    void this.watchReconnects();
    this.sub = nc.subscribe(`${this.inboxPrefix}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const token = msg.subject.slice(this.inboxPrefix.length + 1);
        const waiter = this.pending.get(token);
        if (!waiter) return; // a duplicate after redelivery, or a verdict that arrived after its timeout
        try {
          waiter.resolve(decodeAnyVerdict(msg.data));
        } catch {
          // malformed verdicts are ignored here; the timeout reports the request
        }
      },
    });
  }

  /** Resolves with the ok verdict; rejects with ClassifyError on an error verdict, a timeout or overload. */
  async classify(req: ClassifyOptions): Promise<OkVerdict> {
    const verdict = await this.send(req);
    if (verdict.ok) return verdict;
    throw new ClassifyError(verdict.error.code as ErrorCode, verdict.error.message, verdict.id, verdict);
  }

  /** Like classify() but resolves with error verdicts too; rejects only on timeout or overload. */
  async send(req: ClassifyOptions): Promise<Verdict> {
    return (await this.exchange(req, { text: req.text })) as Verdict;
  }

  /**
   * A policy list: one request, the image sent, decoded and encoded once. Resolves with the list verdict (`results`
   * in the order of `hypotheses`); rejects with ClassifyError on an error verdict (a fault in one hypothesis names
   * it in `err.verdict.error.details.index`), a timeout or overload.
   */
  async classifyMany(req: ClassifyManyOptions): Promise<ListVerdict> {
    const verdict = await this.sendMany(req);
    if (verdict.ok) return verdict;
    throw new ClassifyError(verdict.error.code as ErrorCode, verdict.error.message, verdict.id, verdict);
  }

  /** Like classifyMany() but resolves with error verdicts too. */
  async sendMany(req: ClassifyManyOptions): Promise<ListVerdict | ErrorVerdict> {
    return (await this.exchange(req, { hypotheses: [...req.hypotheses] })) as ListVerdict | ErrorVerdict;
  }

  private async exchange(req: Omit<ClassifyOptions, "text">, questions: Questions): Promise<AnyVerdict> {
    const id = req.id ?? randomUUID();
    const timeoutMs = req.timeoutMs ?? 30_000;
    const token = randomUUID().replaceAll("-", "");
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<AnyVerdict>((resolve) => this.pending.set(token, { id, resolve }));
    try {
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ClassifyError(ErrorCode.TIMEOUT, `no verdict for ${id} within ${timeoutMs} ms`, id)),
          timeoutMs,
        );
      });
      const problem = requestIdProblem(id);
      if (problem) throw new ClassifyError(ErrorCode.REQUEST_ID, problem, id);
      const sent = await Promise.race([this.publish(id, `${this.inboxPrefix}.${token}`, req, questions, timeoutMs), timedOut]);
      // A repeated id: JetStream dropped this publish, and the verdict goes (or went) to whoever sent the id first.
      // The verdict stream holds it (or will): answer from there at once, not at the timeout.
      const stored = sent.duplicate ? this.storedAnswer(id, sent.payload, Date.now() + timeoutMs, () => !this.pending.has(token)) : undefined;
      return await Promise.race(stored ? [answered, stored, timedOut] : [answered, timedOut]);
    } catch (err) {
      // The reply may have been published while this connection was away: the verdict stream keeps it.
      const kept = err instanceof ClassifyError && err.code === ErrorCode.TIMEOUT ? await this.keptVerdict(id) : undefined;
      if (kept) return kept;
      throw err;
    } finally {
      clearTimeout(timer);
      this.pending.delete(token);
    }
  }

  /** The id's stored verdict, or OFA_ERR_ID_CONFLICT when it answered another payload; pends until one exists. */
  private async storedAnswer(id: string, payload: string, untilMs: number, stop: () => boolean): Promise<AnyVerdict> {
    const stored = await waitForStoredVerdict(await jetstreamManager(this.nc), id, untilMs, stop);
    if (!stored) return new Promise<never>(() => undefined); // the timeout (or the reply) settles it
    if (sameRequest(stored, payloadHash(Buffer.from(payload)))) return stored.verdict;
    throw new ClassifyError(ErrorCode.ID_CONFLICT, `id ${JSON.stringify(id)} already has a verdict for a different payload`, id, stored.verdict.ok ? undefined : stored.verdict);
  }

  private async publish(id: string, replyTo: string, req: Omit<ClassifyOptions, "text">, questions: Questions, timeoutMs: number): Promise<{ duplicate: boolean; payload: string }> {
    const envelope: RequestEnvelope = {
      v: 1,
      id,
      ...questions,
      ...(req.premise === undefined ? {} : { premise: req.premise }),
      image: await this.imageField(id, req.image),
    };
    const h = natsHeaders();
    h.set(Header.ReplyTo, replyTo);
    h.set(Header.Version, "1");
    const deadline = req.deadline === undefined ? Date.now() + timeoutMs : req.deadline;
    if (deadline !== false) h.set(Header.Deadline, String(deadline instanceof Date ? deadline.getTime() : deadline));
    const untilMs = Date.now() + timeoutMs;
    const send = async () => {
      const payload = JSON.stringify(envelope);
      return { duplicate: await this.publishWithRetry(id, requestSubject(req.lane ?? Lane.interactive), payload, h, untilMs), payload };
    };
    try {
      return await send();
    } catch (err) {
      // The request stream's max_msg_size (OFA_MAX_PAYLOAD_BYTES) may be below the server's max_payload: an inline
      // image the connection let through was refused by the stream, so it goes by reference like a larger one.
      const tooLarge = err instanceof ClassifyError && err.code === ErrorCode.PAYLOAD_TOO_LARGE;
      if (!tooLarge || !("data" in envelope.image) || this.opts.largeImages === "refuse") throw err;
      envelope.image = await this.storeImage(id, req.image);
      return await send();
    }
  }

  /**
   * A publish that times out or finds no stream leader (an election takes seconds on a cluster) is sent again with
   * the same Nats-Msg-Id until the caller's timeout: JetStream drops the duplicate if an earlier attempt did land,
   * so retrying never doubles a request.
   */
  private async publishWithRetry(id: string, subject: string, data: string, h: MsgHdrs, untilMs: number): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        const ack = await this.js.publish(subject, data, { msgID: id, headers: h, timeout: Math.max(1_000, Math.min(5_000, untilMs - Date.now())) });
        return ack.duplicate;
      } catch (err) {
        // Transient: what a leader election or a reconnect explains (not a full stream, not a bad request).
        const transient = classifyNatsError(err) === "transient";
        if (!transient || Date.now() + PUBLISH_RETRY_MS >= untilMs) throw classifyPublishError(id, err);
        await new Promise((r) => setTimeout(r, Math.min(PUBLISH_RETRY_MS * attempt, 2_000)));
      }
    }
  }

  private async imageField(id: string, image: Uint8Array): Promise<RequestEnvelope["image"]> {
    const maxPayload = this.nc.info?.max_payload ?? 1024 * 1024;
    const encodedBytes = Math.ceil(image.byteLength / 3) * 4;
    if (encodedBytes + ENVELOPE_ALLOWANCE_BYTES <= maxPayload) return { data: Buffer.from(image).toString("base64") };
    if (this.opts.largeImages === "refuse") {
      throw new ClassifyError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        `image of ${image.byteLength} bytes does not fit the server's max_payload of ${maxPayload} bytes`,
        id,
      );
    }
    return this.storeImage(id, image);
  }

  private async storeImage(id: string, image: Uint8Array): Promise<RequestEnvelope["image"]> {
    // Named by content: the same request sent again is the same payload (one verdict per id compares payloads).
    const name = `${id}-${createHash("sha256").update(image).digest("hex").slice(0, 32)}`;
    try {
      const os = await new Objm(this.nc).open(IMAGE_BUCKET);
      await os.putBlob({ name }, image);
    } catch (err) {
      throw classifyPublishError(id, err); // a full store is OFA_ERR_OVERLOADED, not a bare error
    }
    return { ref: { bucket: IMAGE_BUCKET, name } };
  }

  /** Reads a request's verdict from the verdict stream, if one was published. */
  async fromVerdictStream(id: string): Promise<Verdict | undefined> {
    const kept = await this.keptVerdict(id);
    return kept && !("results" in kept) ? kept : undefined;
  }

  /** Any verdict (single or list) kept in the verdict stream for this id. */
  private async keptVerdict(id: string): Promise<AnyVerdict | undefined> {
    try {
      const jsm = await jetstreamManager(this.nc);
      const stored = await jsm.streams.getMessage(STREAMS.verdicts, { last_by_subj: verdictSubject(id) });
      return stored ? decodeAnyVerdict(stored.data) : undefined;
    } catch {
      return undefined;
    }
  }

  /** After a reconnect, verdicts published during the gap are looked up in the verdict stream. */
  private async watchReconnects(): Promise<void> {
    for await (const s of this.statusEvents) {
      if (s.type !== "reconnect") continue;
      for (const waiter of [...this.pending.values()]) {
        const kept = await this.keptVerdict(waiter.id);
        if (kept) waiter.resolve(kept);
      }
    }
  }

  /** Stops listening for verdicts; the connection stays the caller's. */
  close(): void {
    (this.statusEvents as { stop?: () => void }).stop?.();
    this.sub.unsubscribe();
  }
}

function classifyPublishError(id: string, err: unknown): ClassifyError {
  if (err instanceof ClassifyError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = publishFailureCode(err);
  if (code === ErrorCode.OVERLOADED) return new ClassifyError(code, `stream or store is full: ${message}`, id, undefined, { cause: err });
  // "message size exceeds maximum allowed": the request stream's max_msg_size (JetStream API error 10054).
  if (code === ErrorCode.PAYLOAD_TOO_LARGE) return new ClassifyError(code, message, id, undefined, { cause: err });
  return new ClassifyError(ErrorCode.INTERNAL, `publish failed: ${message}`, id, undefined, { cause: err });
}
