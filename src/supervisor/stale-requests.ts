/**
 * Removes answered requests that a broker crash left in the work-queue stream. JetStream removes a request from
 * OFA_VE_REQ when its consumer acks it; if nats-server dies between recording the ack and removing the message, the
 * restarted server knows the request is acked (it is below the consumer's ack floor) and never delivers it again,
 * yet keeps it in the stream for good, taking room in a bounded stream. Observed with 2.9.10 after kill -9.
 *
 * A message is removed only when both hold: its sequence is at or below every request consumer's ack floor
 * (settledUpTo: no consumer will deliver it again), and the verdict stream has a verdict for its id (so it was answered). Anything
 * else below the floors (one whose verdict was never written) is left.
 * Runs on the supervisor's consumer poll; cheap when there is nothing to do (one stream info).
 */
import type { ConsumerInfo, JetStreamManager, MsgRequest, StoredMsg } from "@nats-io/jetstream";
import type { Logger } from "../log/logger.ts";
import { Header, STREAMS, verdictSubject } from "../protocol/index.ts";

/** At most this many messages are examined per sweep, so one sweep never holds the poll for long. */
const SWEEP_BATCH = 500;
/** Once in this long the sweep starts again from the stream's first message (see `rewind`). */
const FULL_RESCAN_MS = 5 * 60_000;

/**
 * Costs O(new messages): each message below the floor is examined once. The sweep remembers the sequence it has
 * examined up to and asks for the next stored message (`next_by_subj`), so gaps (removed requests) cost nothing and a
 * message left on purpose is not read again every poll (before: up to 500 reads per 2-s poll, measured at 6.7 % of a
 * core in nats-server with 600 such messages). A broker that restarts from its store can bring back a message whose
 * removal it had not written, below what was examined: the supervisor rewinds on every reconnect, and a full rescan
 * every FULL_RESCAN_MS catches what a failover without a reconnect brings back.
 */
export class StaleRequestSweeper {
  private running = false;
  /** Every sequence up to this one has been examined (or was gone). */
  private sweptUpTo = 0;
  private lastFullScan: number;
  private readonly jsm: JetStreamManager;
  private readonly logger: Logger;
  private readonly onRemoved: (n: number) => void;
  private readonly now: () => number;

  constructor(jsm: JetStreamManager, logger: Logger, onRemoved: (n: number) => void, now: () => number = Date.now) {
    this.jsm = jsm;
    this.logger = logger;
    this.onRemoved = onRemoved;
    this.now = now;
    this.lastFullScan = now();
  }

  /** Examine everything again from the stream's first message on the next sweep (after a broker reconnect). */
  rewind(): void {
    this.sweptUpTo = 0;
  }

  /** Sweeps below `ackFloor` (the lowest ack floor of the request consumers). Returns how many it removed. */
  async sweep(ackFloor: number): Promise<number> {
    if (this.running || ackFloor <= 0) return 0;
    this.running = true;
    try {
      if (this.now() - this.lastFullScan >= FULL_RESCAN_MS) {
        this.lastFullScan = this.now();
        this.rewind();
      }
      const { first_seq: first, last_seq: last, messages } = (await this.jsm.streams.info(STREAMS.requests)).state;
      if (last < this.sweptUpTo) this.sweptUpTo = 0; // the stream was recreated: its sequences start again
      if (messages === 0) {
        this.sweptUpTo = Math.max(this.sweptUpTo, last); // nothing stored up to its last sequence
        return 0;
      }
      const removed = await this.sweepFrom(Math.max(first, this.sweptUpTo + 1), ackFloor);
      if (removed > 0) {
        this.onRemoved(removed);
        this.logger.warn({ removed, ackFloor }, "removed answered requests left in the request stream below the consumers' ack floor");
      }
      return removed;
    } finally {
      this.running = false;
    }
  }

  private async sweepFrom(start: number, ackFloor: number): Promise<number> {
    let removed = 0;
    for (let seq = start, examined = 0; seq <= ackFloor && examined < SWEEP_BATCH; examined++) {
      // nats-server ≥ 2.9 answers "the first message at or after seq"; nats.js passes the query through but types only
      // the seq and last_by_subj forms.
      const stored = await this.jsm.streams.getMessage(STREAMS.requests, { seq, next_by_subj: ">" } as unknown as MsgRequest);
      if (!stored || stored.seq > ackFloor) {
        this.sweptUpTo = Math.max(this.sweptUpTo, ackFloor); // nothing stored between seq and the floor
        break;
      }
      if (await this.removeIfAnswered(stored)) removed += 1;
      this.sweptUpTo = stored.seq;
      seq = stored.seq + 1;
    }
    return removed;
  }

  private async removeIfAnswered(stored: StoredMsg): Promise<boolean> {
    const id = requestId(stored);
    // The client maps JetStream's "no message found" to null.
    if (!(await this.jsm.streams.getMessage(STREAMS.verdicts, { last_by_subj: verdictSubject(id) }))) return false;
    return this.jsm.streams.deleteMessage(STREAMS.requests, stored.seq, false).catch(() => false);
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
