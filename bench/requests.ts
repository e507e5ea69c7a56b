/**
 * A lean request sender for the benchmark: the wire format the SDK sends, built by the same client-package functions
 * (encodeEnvelope, requestHeaders) — JSON envelope with the image inline as base64, Nats-Msg-Id, Ofa-Reply-To — but
 * with envelopes encoded once up front and one inbox subscription for all verdicts. The publisher shares the 2 cores with the service it measures; every
 * microsecond it saves is one the service gets.
 */
import { createInbox, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { Lane, encodeEnvelope, requestHeaders, requestSubject } from "@ofa-entail/client/source";

/** What the publisher keeps of a verdict: enough to count, and the service's own timing split. */
export interface VerdictSummary {
  readonly ok: boolean;
  readonly code: string | undefined;
  readonly batchSize: number;
  readonly preprocessMs: number;
  readonly batchWaitMs: number;
  readonly inferenceMs: number;
}

interface Pending {
  resolve(v: VerdictSummary): void;
  readonly sentAt: number;
}

/** Sends requests and resolves each with its verdict; times out requests older than timeoutMs. */
export class RequestSender {
  private readonly js: JetStreamClient;
  private readonly inbox = createInbox();
  private readonly pending = new Map<number, Pending>();
  private readonly envelopes: readonly Uint8Array[];
  private readonly subject = requestSubject(Lane.interactive);
  private readonly sweeper: NodeJS.Timeout;
  private next = 0;

  private readonly runId: string;
  private readonly timeoutMs: number;
  constructor(
    nc: NatsConnection,
    jpegs: readonly Buffer[],
    texts: readonly string[],
    runId: string,
    timeoutMs: number,
  ) {
    this.runId = runId;
    this.timeoutMs = timeoutMs;
    this.js = jetstream(nc);
    this.envelopes = jpegs.map((img, i) => encodeEnvelope({ v: 1, text: texts[i % texts.length]!, image: { data: img.toString("base64") } }));
    nc.subscribe(`${this.inbox}.*`, {
      callback: (err, msg) => {
        if (!err) this.onVerdict(msg.subject, msg.data);
      },
    });
    // One sweep a second instead of a timer per request: thousands of timers would cost the publisher CPU.
    this.sweeper = setInterval(() => this.sweep(), 1000);
  }

  /** Publishes one request; resolves with its verdict, or with a TIMEOUT summary after timeoutMs. */
  send(): Promise<VerdictSummary> {
    const n = this.next++;
    const h = requestHeaders({ replyTo: `${this.inbox}.${n}` });
    const answered = new Promise<VerdictSummary>((resolve) => this.pending.set(n, { resolve, sentAt: performance.now() }));
    this.js.publish(this.subject, this.envelopes[n % this.envelopes.length]!, { msgID: `${this.runId}-${n}`, headers: h }).catch((err: unknown) => {
      this.finish(n, failed(`PUBLISH: ${err instanceof Error ? err.message : String(err)}`));
    });
    return answered;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private onVerdict(subject: string, data: Uint8Array): void {
    const n = Number(subject.slice(this.inbox.length + 1));
    const v = JSON.parse(new TextDecoder().decode(data)) as {
      ok: boolean;
      error?: { code: string };
      batchSize?: number;
      timings?: { preprocessMs: number; batchWaitMs: number; inferenceMs: number };
    };
    this.finish(n, {
      ok: v.ok,
      code: v.error?.code,
      batchSize: v.batchSize ?? 0,
      preprocessMs: v.timings?.preprocessMs ?? 0,
      batchWaitMs: v.timings?.batchWaitMs ?? 0,
      inferenceMs: v.timings?.inferenceMs ?? 0,
    });
  }

  private finish(n: number, summary: VerdictSummary): void {
    const p = this.pending.get(n);
    if (!p) return; // a duplicate after redelivery, or one already timed out
    this.pending.delete(n);
    p.resolve(summary);
  }

  private sweep(): void {
    const oldest = performance.now() - this.timeoutMs;
    for (const [n, p] of this.pending) if (p.sentAt < oldest) this.finish(n, failed("TIMEOUT"));
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}

function failed(code: string): VerdictSummary {
  return { ok: false, code, batchSize: 0, preprocessMs: 0, batchWaitMs: 0, inferenceMs: 0 };
}
