/**
 * Deliveries a killed worker held but never reported. A worker reports what it holds once per event-loop tick
 * (src/consumer/held.ts), so a SIGKILL can still catch deliveries it had not read from its socket or not yet
 * reported: seen in CI with one core kept busy, one request of 240 then waited the whole ack wait (30.3 s).
 * JetStream 2.9 has no call that lists a consumer's pending deliveries, but its books bound them: every delivery not
 * acknowledged yet has a stream sequence above the consumer's ack floor and at most its last delivered one, and, the
 * request stream being a work queue, is still in the stream (an acknowledged request is removed). What the live
 * workers report holding — looked at twice, a second apart, so a delivery a live worker has just read is reported by
 * then — is left alone; the rest is handed back with a nak. A nak names the delivery by its stream sequence; the
 * server checks that the sequence is pending on that consumer and that the consumer sequence is within its window,
 * so a nak for a sequence another lane's consumer holds, or one acknowledged meanwhile, is ignored.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "../log/logger.ts";
import { LANES, STREAMS, consumerName } from "../protocol/index.ts";

/** The second look at what live workers hold comes this long after the first (they report once per tick). */
const SECOND_LOOK_MS = 1_000;
/** A bound on the naks of one sweep (the request stream holds at most a few thousand pending requests). */
const MAX_NAKS = 2_048;

/** The stream sequence of a `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ts>.<pending>` subject. */
export function ackStreamSeq(ack: string): number | undefined {
  const tokens = ack.split(".");
  if (tokens[0] !== "$JS" || tokens[1] !== "ACK" || tokens.length < 9) return undefined;
  const seq = Number(tokens[tokens.length - 4]);
  return Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
}

/** The sequences in (ackFloor, delivered] still in the stream and not held by anyone who said so, at most `max`. */
export function unreportedSeqs(ackFloor: number, delivered: number, firstSeq: number, deleted: ReadonlySet<number>, held: ReadonlySet<number>, max = MAX_NAKS): number[] {
  const out: number[] = [];
  for (let seq = Math.max(ackFloor + 1, firstSeq); seq <= delivered && out.length < max; seq++) {
    if (!deleted.has(seq) && !held.has(seq)) out.push(seq);
  }
  return out;
}

/** Naks every delivery of the request stream that no live worker reports holding; resolves with how many. */
export async function handBackUnreported(nc: NatsConnection, jsm: JetStreamManager, liveHolding: () => readonly string[], handedBack: readonly string[], logger: Logger): Promise<number> {
  const held = new Set<number>([...handedBack, ...liveHolding()].flatMap((a) => ackStreamSeq(a) ?? []));
  const lanes = await Promise.all(LANES.map(async (lane) => ({ name: consumerName(lane), info: await jsm.consumers.info(STREAMS.requests, consumerName(lane)) })));
  const pending = lanes.filter((l) => l.info.num_ack_pending > 0);
  if (pending.length === 0) return 0;
  const stream = await jsm.streams.info(STREAMS.requests, { deleted_details: true });
  const deleted = new Set(stream.state.deleted ?? []);
  await new Promise((r) => setTimeout(r, SECOND_LOOK_MS));
  for (const a of liveHolding()) {
    const seq = ackStreamSeq(a);
    if (seq !== undefined) held.add(seq);
  }
  let naks = 0;
  for (const { name, info } of pending) {
    const seqs = unreportedSeqs(info.ack_floor.stream_seq, info.delivered.stream_seq, stream.state.first_seq, deleted, held);
    const consumerSeq = info.delivered.consumer_seq; // within the window the server accepts an ack in
    for (const seq of seqs) nc.publish(`$JS.ACK.${STREAMS.requests}.${name}.1.${seq}.${consumerSeq}.${Date.now()}000000.0`, "-NAK");
    naks += seqs.length;
  }
  await nc.flush();
  if (naks > 0) logger.info({ naks }, "handed back deliveries a gone worker held without reporting them");
  return naks;
}
