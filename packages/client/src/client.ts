/**
 * The typed SDK. `classify()` publishes one request into the durable stream and waits for its verdict on a reply
 * subject it subscribed to *before* publishing (so no verdict can be missed). One wildcard inbox subscription per
 * client serves every request (a token per request), as nats.js muxes requests. A reply is taken only when it answers
 * this request: its id, and the payload hash it carries (Ofa-Request-Sha256), must match; anything else on the inbox
 * (another caller's verdict aimed here through its Ofa-Reply-To) is ignored and the call keeps waiting.
 */
import { randomUUID } from "node:crypto";
import { createInbox, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import { ErrorCode, OfaError, type AnyErrorCode } from "./errors.ts";
import { Header } from "./headers.ts";
import { encodeEnvelope, payloadHash, requestHeaders, requestIdProblem, type RequestEnvelope } from "./envelope.ts";
import { publishFailureCode, publishWithRetry } from "./publish.ts";
import { IMAGE_BUCKET, Lane, requestSubject } from "./subjects.ts";
import { decodeAnyVerdict, type AnyVerdict, type ErrorVerdict, type ListVerdict, type OkVerdict, type Verdict } from "./verdict.ts";
import { sameRequest, storedVerdict, waitForStoredVerdict } from "./verdict-store.ts";

/** Bytes kept free in a message for the JSON envelope and headers around the base64 image. */
const ENVELOPE_ALLOWANCE_BYTES = 16 * 1024;
/** At the timeout, how long the last look into the verdict stream may take: classify settles within timeoutMs + 100. */
const LAST_LOOK_MS = 80;

export interface ClassifyOptions {
  image: Uint8Array;
  text: string;
  premise?: string;
  /** How long to wait for the verdict. Default 30 000 ms. The call settles within it (+100 ms), whatever the broker does. */
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

/**
 * An error verdict, or a client-side failure (timeout, overload, a closed client), as a typed error with a stable
 * code. A code this client does not know (a newer server's) is kept as sent, with the server's `retryable`.
 */
export class ClassifyError extends OfaError<AnyErrorCode> {
  readonly requestId: string;
  readonly verdict?: ErrorVerdict;
  constructor(code: AnyErrorCode, message: string, requestId: string, verdict?: ErrorVerdict, options?: ErrorOptions & { retryable?: boolean }) {
    super(code, message, { ...options, retryable: options?.retryable ?? verdict?.error.retryable });
    this.requestId = requestId;
    this.verdict = verdict;
    this.name = "ClassifyError";
  }
}

/** What is asked about the image: one text, or a policy list. */
type Questions = { text: string } | { hypotheses: string[] };

/** One call waiting for its verdict; settles once (the first of reply, stored verdict, timeout, close). */
interface Pending {
  readonly id: string;
  /** sha256 of the payload last sent for this call: a reply carrying another hash answers someone else. */
  hash: string | undefined;
  settled: boolean;
  resolve(v: AnyVerdict): void;
  reject(err: ClassifyError): void;
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
  /** One manager for every verdict lookup, without the API check (an extra $JS.API.INFO round trip per call). */
  private manager: Promise<JetStreamManager> | undefined;
  private closed = false;

  constructor(nc: NatsConnection, opts: ClientOptions = {}) {
    this.nc = nc;
    this.opts = opts;
    this.inboxPrefix = createInbox((nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
    this.js = jetstream(nc);
    this.statusEvents = nc.status();
    void this.watchReconnects();
    this.sub = nc.subscribe(`${this.inboxPrefix}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const waiter = this.pending.get(msg.subject.slice(this.inboxPrefix.length + 1));
        if (!waiter) return; // a duplicate after redelivery, or a verdict that arrived after its timeout
        let verdict: AnyVerdict;
        try {
          verdict = decodeAnyVerdict(msg.data);
        } catch {
          return; // malformed verdicts are ignored here; the timeout reports the request
        }
        const hash = msg.headers?.get(Header.RequestHash) || undefined;
        if (verdict.id !== waiter.id || (hash !== undefined && hash !== waiter.hash)) return; // not this request's answer
        waiter.resolve(verdict);
      },
    });
  }

  /** Resolves with the ok verdict; rejects with ClassifyError on an error verdict, a timeout or overload. */
  async classify(req: ClassifyOptions): Promise<OkVerdict> {
    const verdict = await this.send(req);
    if (verdict.ok) return verdict;
    throw new ClassifyError(verdict.error.code, verdict.error.message, verdict.id, verdict);
  }

  /** Like classify() but resolves with error verdicts too; rejects only on timeout, overload or close. */
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
    throw new ClassifyError(verdict.error.code, verdict.error.message, verdict.id, verdict);
  }

  /** Like classifyMany() but resolves with error verdicts too. */
  async sendMany(req: ClassifyManyOptions): Promise<ListVerdict | ErrorVerdict> {
    return (await this.exchange(req, { hypotheses: [...req.hypotheses] })) as ListVerdict | ErrorVerdict;
  }

  private exchange(req: Omit<ClassifyOptions, "text">, questions: Questions): Promise<AnyVerdict> {
    const id = req.id ?? randomUUID();
    if (this.closed) return Promise.reject(new ClassifyError(ErrorCode.CLIENT_CLOSED, `the client is closed; ${id} was not sent`, id));
    const problem = requestIdProblem(id);
    if (problem) return Promise.reject(new ClassifyError(ErrorCode.REQUEST_ID, problem, id));
    const timeoutMs = req.timeoutMs ?? 30_000;
    const token = randomUUID().replaceAll("-", "");
    return new Promise<AnyVerdict>((resolve, reject) => {
      // The call's own timer: nothing the broker does (a locked-up JetStream, a publish that never acks) delays it.
      const timer = setTimeout(() => void this.expire(waiter, timeoutMs), timeoutMs);
      const settle = (): boolean => {
        if (waiter.settled) return false;
        waiter.settled = true;
        clearTimeout(timer);
        this.pending.delete(token);
        return true;
      };
      const waiter: Pending = {
        id,
        hash: undefined,
        settled: false,
        resolve: (v) => settle() && resolve(v),
        reject: (err) => settle() && reject(err),
      };
      this.pending.set(token, waiter);
      this.publish(waiter, `${this.inboxPrefix}.${token}`, req, questions, timeoutMs).then(
        (duplicate) => {
          // A repeated id: JetStream dropped this publish, and the verdict goes (or went) to whoever sent the id
          // first. The verdict stream holds it (or will): answer from there at once, not at the timeout.
          if (duplicate) this.storedAnswer(waiter, Date.now() + timeoutMs).then(waiter.resolve, waiter.reject);
        },
        (err: unknown) => waiter.reject(classifyPublishError(id, err)),
      );
    });
  }

  /** The timeout: one last, bounded look into the verdict stream (the reply may have been published while this
   *  connection was away), then OFA_ERR_TIMEOUT. */
  private async expire(waiter: Pending, timeoutMs: number): Promise<void> {
    let stop: NodeJS.Timeout | undefined;
    const kept = await Promise.race([this.keptVerdict(waiter), new Promise<undefined>((r) => (stop = setTimeout(() => r(undefined), LAST_LOOK_MS)))]);
    clearTimeout(stop);
    if (kept) waiter.resolve(kept);
    else waiter.reject(new ClassifyError(ErrorCode.TIMEOUT, `no verdict for ${waiter.id} within ${timeoutMs} ms`, waiter.id));
  }

  private jsm(): Promise<JetStreamManager> {
    this.manager ??= jetstreamManager(this.nc, { checkAPI: false });
    return this.manager;
  }

  /** The id's stored verdict, or OFA_ERR_ID_CONFLICT when it answered another payload; pends until one exists. */
  private async storedAnswer(waiter: Pending, untilMs: number): Promise<AnyVerdict> {
    const stored = await waitForStoredVerdict(await this.jsm(), waiter.id, untilMs, () => waiter.settled);
    if (!stored) return new Promise<never>(() => undefined); // the timeout (or the reply) settles it
    if (sameRequest(stored, waiter.hash)) return stored.verdict;
    const verdict = stored.verdict.ok ? undefined : stored.verdict;
    throw new ClassifyError(ErrorCode.ID_CONFLICT, `id ${JSON.stringify(waiter.id)} already has a verdict for a different payload`, waiter.id, verdict, { retryable: false });
  }

  /** Publishes the request; resolves with whether JetStream saw its id before (a duplicate). */
  private async publish(waiter: Pending, replyTo: string, req: Omit<ClassifyOptions, "text">, questions: Questions, timeoutMs: number): Promise<boolean> {
    const { id } = waiter;
    const envelope: RequestEnvelope = {
      v: 1,
      id,
      ...questions,
      ...(req.premise === undefined ? {} : { premise: req.premise }),
      image: await this.imageField(id, req.image),
    };
    const deadline = req.deadline === undefined ? Date.now() + timeoutMs : req.deadline;
    const headers = requestHeaders({ replyTo, deadlineMs: deadline === false ? undefined : deadline instanceof Date ? deadline.getTime() : deadline });
    const untilMs = Date.now() + timeoutMs;
    const send = async (): Promise<boolean> => {
      const payload = encodeEnvelope(envelope);
      waiter.hash = payloadHash(payload); // before publishing: the reply may come before the PubAck
      return (await publishWithRetry(this.js, requestSubject(req.lane ?? Lane.interactive), payload, { msgID: id, headers, untilMs })).duplicate;
    };
    try {
      return await send();
    } catch (err) {
      // The request stream's max_msg_size (OFA_MAX_PAYLOAD_BYTES) may be below the server's max_payload: an inline
      // image the connection let through was refused by the stream, so it goes by reference like a larger one.
      const tooLarge = publishFailureCode(err) === ErrorCode.PAYLOAD_TOO_LARGE;
      if (!tooLarge || !("data" in envelope.image) || this.opts.largeImages === "refuse" || waiter.settled) throw err;
      envelope.image = await this.storeImage(id, req.image);
      return await send();
    }
  }

  private async imageField(id: string, image: Uint8Array): Promise<RequestEnvelope["image"]> {
    const maxPayload = this.nc.info?.max_payload ?? 1024 * 1024;
    const encodedBytes = Math.ceil(image.byteLength / 3) * 4;
    if (encodedBytes + ENVELOPE_ALLOWANCE_BYTES <= maxPayload) return { data: Buffer.from(image).toString("base64") };
    if (this.opts.largeImages === "refuse") {
      throw new ClassifyError(ErrorCode.PAYLOAD_TOO_LARGE, `image of ${image.byteLength} bytes does not fit the server's max_payload of ${maxPayload} bytes`, id);
    }
    return this.storeImage(id, image);
  }

  private async storeImage(id: string, image: Uint8Array): Promise<RequestEnvelope["image"]> {
    // Named by content: the same request sent again is the same payload (one verdict per id compares payloads).
    const name = `${id}-${payloadHash(image).slice(0, 32)}`;
    try {
      const os = await new Objm(this.nc).open(IMAGE_BUCKET);
      await os.putBlob({ name }, image);
    } catch (err) {
      throw classifyPublishError(id, err); // a full store is OFA_ERR_OVERLOADED, not a bare error
    }
    return { ref: { bucket: IMAGE_BUCKET, name } };
  }

  /** The verdict the verdict stream keeps for this call's id, when it answers this call's payload. */
  private async keptVerdict(waiter: Pending): Promise<AnyVerdict | undefined> {
    try {
      const stored = await storedVerdict(await this.jsm(), waiter.id);
      return stored && sameRequest(stored, waiter.hash) ? stored.verdict : undefined;
    } catch {
      return undefined;
    }
  }

  /** After a reconnect, verdicts published during the gap are looked up in the verdict stream. */
  private async watchReconnects(): Promise<void> {
    for await (const s of this.statusEvents) {
      if (s.type !== "reconnect") continue;
      for (const waiter of [...this.pending.values()]) {
        const kept = await this.keptVerdict(waiter);
        if (kept) waiter.resolve(kept);
      }
    }
  }

  /** Stops listening for verdicts and rejects every pending call (OFA_ERR_CLIENT_CLOSED); the connection stays the
   *  caller's. A closed client sends nothing more. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    (this.statusEvents as { stop?: () => void }).stop?.();
    this.sub.unsubscribe();
    for (const waiter of [...this.pending.values()]) {
      waiter.reject(new ClassifyError(ErrorCode.CLIENT_CLOSED, `the client was closed before the verdict for ${waiter.id} arrived`, waiter.id));
    }
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
