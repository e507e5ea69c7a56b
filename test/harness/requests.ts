/** Test requests: images made with sharp, raw publishes for malformed input, and reading the verdict stream. */
import sharp from "sharp";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Header, Lane, STREAMS, decodeVerdictPayload, requestSubject, type Verdict } from "../../src/protocol/index.ts";

export async function jpeg(width = 320, height = 240, seed = 0): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: (seed * 37) % 256, g: (seed * 91) % 256, b: 128 } } }).jpeg().toBuffer();
}

/** Publishes raw bytes as a request (bypassing the SDK), with a reply subject and id. */
export async function publishRaw(nc: NatsConnection, id: string, payload: Uint8Array | string, replyTo?: string, lane: Lane = Lane.interactive): Promise<void> {
  const h = natsHeaders();
  if (replyTo) h.set(Header.ReplyTo, replyTo);
  await jetstream(nc).publish(requestSubject(lane), payload, { msgID: id, headers: h });
}

export function envelope(image: Buffer | string, text: string, premise?: string): string {
  const data = typeof image === "string" ? image : image.toString("base64");
  return JSON.stringify({ v: 1, text, ...(premise === undefined ? {} : { premise }), image: { data } });
}

/** Every verdict in the verdict stream, read with an ordered consumer. */
export async function readVerdictStream(nc: NatsConnection, apiTimeoutMs = 5_000): Promise<Verdict[]> {
  const jsm = await jetstreamManager(nc, { timeout: apiTimeoutMs });
  const total = (await jsm.streams.info(STREAMS.verdicts)).state.messages;
  const out: Verdict[] = [];
  if (total === 0) return out;
  const consumer = await jetstream(nc, { timeout: apiTimeoutMs }).consumers.get(STREAMS.verdicts);
  const messages = await consumer.fetch({ max_messages: total, expires: 5_000 });
  for await (const m of messages) out.push(decodeVerdictPayload(m.data));
  return out;
}

/** Counts of how many times each id appears. */
export function countIds(ids: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}
