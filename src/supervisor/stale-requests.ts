/**
 * Removes answered requests that a broker crash left in the work-queue stream. JetStream removes a request from
 * OFA_VE_REQ when its consumer acks it; if nats-server dies between recording the ack and removing the message, the
 * restarted server knows the request is acked (it is below the consumer's ack floor) and never delivers it again,
 * yet keeps it in the stream for good, taking room in a bounded stream. Observed with 2.9.10 after kill -9.
 *
 * A message is removed only when both hold: its sequence is at or below every request consumer's ack floor
 * (settledUpTo: no consumer will deliver it again), and the verdict stream has a verdict for its id (so it was answered). Anything
 * else below the floors (a request on a subject no consumer serves, one whose verdict was never written) is left.
 * Runs on the supervisor's consumer poll; cheap when there is nothing to do (one stream info).
 */
import type { ConsumerInfo, JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import type { Logger } from "../log/logger.ts";
import { Header, STREAMS, verdictSubject } from "../protocol/index.ts";

/** At most this many messages are examined per sweep, so one sweep never holds the poll for long. */
const SWEEP_BATCH = 500;

export class StaleRequestSweeper {
  private running = false;
  private readonly jsm: JetStreamManager;
  private readonly logger: Logger;
  private readonly onRemoved: (n: number) => void;

  constructor(jsm: JetStreamManager, logger: Logger, onRemoved: (n: number) => void) {
    this.jsm = jsm;
    this.logger = logger;
    this.onRemoved = onRemoved;
  }

  /** Sweeps below `ackFloor` (the lowest ack floor of the request consumers). Returns how many it removed. */
  async sweep(ackFloor: number): Promise<number> {
    if (this.running || ackFloor <= 0) return 0;
    this.running = true;
    try {
      const { first_seq: first, messages } = (await this.jsm.streams.info(STREAMS.requests)).state;
      if (messages === 0 || first > ackFloor) return 0;
      let removed = 0;
      for (let seq = first; seq <= Math.min(ackFloor, first + SWEEP_BATCH - 1); seq++) {
        if (await this.removeIfAnswered(seq)) removed += 1;
      }
      if (removed > 0) {
        this.onRemoved(removed);
        this.logger.warn({ removed, ackFloor }, "removed answered requests left in the request stream below the consumers' ack floor");
      }
      return removed;
    } finally {
      this.running = false;
    }
  }

  private async removeIfAnswered(seq: number): Promise<boolean> {
    const stored = await this.getOrNull(STREAMS.requests, { seq });
    if (!stored) return false; // a gap (already removed)
    const id = requestId(stored);
    if (!(await this.getOrNull(STREAMS.verdicts, { last_by_subj: verdictSubject(id) }))) return false;
    return this.jsm.streams.deleteMessage(STREAMS.requests, seq, false).catch(() => false);
  }

  /** The stored message, or null when there is none (the client maps JetStream's "no message found" to null). */
  private getOrNull(stream: string, query: { seq: number } | { last_by_subj: string }): Promise<StoredMsg | null> {
    return this.jsm.streams.getMessage(stream, query);
  }
}

/**
 * The stream sequence up to which a consumer has nothing left to deliver or to be acked. Its ack floor, except that a
 * consumer holding nothing un-acked is settled up to what it last delivered: a lane that never acked anything (its
 * floor stays 0) has still passed every message of the other lane.
 */
export function settledUpTo(info: ConsumerInfo): number {
  return info.num_ack_pending === 0 ? info.delivered.stream_seq : info.ack_floor.stream_seq;
}

/** The request id the worker answers under (src/consumer/job.ts): Nats-Msg-Id, else the envelope's id, else seq-N. */
function requestId(stored: StoredMsg): string {
  const header = stored.header?.get(Header.MsgId);
  if (header) return header;
  try {
    const id = (JSON.parse(new TextDecoder().decode(stored.data)) as { id?: unknown }).id;
    if (typeof id === "string" && id.length > 0) return id;
  } catch {
    // not JSON: answered under its sequence
  }
  return `seq-${stored.seq}`;
}
