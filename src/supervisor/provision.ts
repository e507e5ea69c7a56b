/**
 * Idempotent provisioning of streams, consumers and buckets from infra/jetstream/definitions.json, with the
 * settings the config owns laid over it. `planProvision` reports the differences without changing anything
 * (`ofa-entail provision --dry-run`).
 */
import { readFileSync } from "node:fs";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type ConsumerConfig, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { redeliveryBackoffMs, type Config } from "../config/index.ts";
import { CACHE_BUCKET, IMAGE_BUCKET, REQUEST_SUBJECTS, STREAMS } from "../protocol/index.ts";

const DEFINITIONS_URL = new URL("../../infra/jetstream/definitions.json", import.meta.url);
const IMAGE_TTL_MS = 24 * 3600 * 1000;

type StreamDef = Partial<StreamConfig> & { name: string };
type ConsumerDef = Partial<ConsumerConfig> & { stream: string; durable_name: string };
interface Definitions {
  version: number;
  streams: StreamDef[];
  consumers: ConsumerDef[];
}

/** The settings provisioning reads: a view of Config (its types come from the settings table). */
export type ProvisionSettings = Pick<Config, "ackWaitMs" | "maxDeliver" | "maxAckPending" | "replicas" | "maxPayloadBytes" | "maxQueuedRequests" | "cacheTtlMs" | "requestMaxAgeMs">;

/** The definitions with the config's values applied. Backoff: ack wait × 1, 2, 4 … (max_deliver − 1 steps). */
export function desiredDefinitions(settings: ProvisionSettings): Definitions {
  const defs = JSON.parse(readFileSync(DEFINITIONS_URL, "utf8")) as Definitions;
  const ackWait = nanos(settings.ackWaitMs); // JetStream durations are nanoseconds
  const backoff = redeliveryBackoffMs(settings.ackWaitMs, settings.maxDeliver).map((ms) => nanos(ms));
  for (const s of defs.streams) {
    s.num_replicas = settings.replicas;
    if (s.name === STREAMS.requests) {
      Object.assign(s, { max_msg_size: settings.maxPayloadBytes, max_msgs: settings.maxQueuedRequests, max_age: nanos(settings.requestMaxAgeMs) });
    }
  }
  for (const c of defs.consumers) {
    if (c.stream !== STREAMS.requests) continue;
    Object.assign(c, { ack_wait: ackWait, max_deliver: settings.maxDeliver, backoff, max_ack_pending: settings.maxAckPending });
  }
  return defs;
}

export interface Change {
  readonly kind: "stream" | "consumer";
  readonly name: string;
  readonly action: "create" | "update" | "none";
  readonly fields: Record<string, { have: unknown; want: unknown }>;
}

export async function planProvision(nc: NatsConnection, settings: ProvisionSettings): Promise<Change[]> {
  const jsm = await jetstreamManager(nc);
  const defs = desiredDefinitions(settings);
  const changes: Change[] = [];
  for (const s of defs.streams) {
    const have = await jsm.streams.info(s.name).then((i) => i.config as unknown as Record<string, unknown>, () => undefined);
    changes.push(diff("stream", s.name, s, have));
  }
  for (const c of defs.consumers) {
    const have = await jsm.consumers.info(c.stream, c.durable_name).then((i) => i.config as unknown as Record<string, unknown>, () => undefined);
    const { stream: _stream, ...want } = c;
    changes.push(diff("consumer", `${c.stream}/${c.durable_name}`, want, have));
  }
  return changes;
}

function diff(kind: Change["kind"], name: string, want: object, have: Record<string, unknown> | undefined): Change {
  if (!have) return { kind, name, action: "create", fields: {} };
  const fields: Change["fields"] = {};
  for (const [k, v] of Object.entries(want)) {
    if (k === "description") continue;
    if (JSON.stringify(have[k] ?? null) !== JSON.stringify(v ?? null)) fields[k] = { have: have[k], want: v };
  }
  return { kind, name, action: Object.keys(fields).length > 0 ? "update" : "none", fields };
}

/** Creates what is missing and updates what differs. Safe to run on every start and from several hosts. */
export async function provision(nc: NatsConnection, settings: ProvisionSettings): Promise<Change[]> {
  const jsm = await jetstreamManager(nc);
  const changes = await planProvision(nc, settings);
  const defs = desiredDefinitions(settings);
  for (const change of changes.filter((c) => c.action !== "none")) {
    await apply(jsm, defs, change);
  }
  await provisionBuckets(nc, settings);
  changes.push(...(await purgeUnserved(jsm)));
  return changes;
}

/**
 * Requests an older stream (subjects `ofa.ve.req.>`) took on subjects no consumer serves: no worker will ever answer
 * them, and they count against the stream's bounds. Once the stream's subjects are the lanes, they are purged (a
 * user without STREAM.PURGE on the request stream — the service's least-privilege one — leaves them to max_age).
 */
async function purgeUnserved(jsm: JetStreamManager): Promise<Change[]> {
  const info = await jsm.streams.info(STREAMS.requests, { subjects_filter: ">" });
  const unserved = Object.entries(info.state.subjects ?? {}).filter(([subject]) => !REQUEST_SUBJECTS.includes(subject));
  const changes: Change[] = [];
  for (const [subject, count] of unserved) {
    const purged = await jsm.streams.purge(STREAMS.requests, { filter: subject }).then((r) => r.purged, () => undefined);
    const field = purged === undefined ? `requests on unserved ${subject} (not purged, e.g. no permission: max_age removes them)` : `requests on unserved ${subject} (purged)`;
    changes.push({ kind: "stream", name: STREAMS.requests, action: purged === undefined ? "none" : "update", fields: { [field]: { have: count, want: 0 } } });
  }
  return changes;
}

async function apply(jsm: JetStreamManager, defs: Definitions, change: Change): Promise<void> {
  if (change.kind === "stream") {
    const def = defs.streams.find((s) => s.name === change.name)!;
    if (change.action === "create") await jsm.streams.add(def);
    else await jsm.streams.update(def.name, def);
    return;
  }
  const def = defs.consumers.find((c) => `${c.stream}/${c.durable_name}` === change.name)!;
  const { stream, ...config } = def;
  if (change.action === "create") await jsm.consumers.add(stream, config);
  else await jsm.consumers.update(stream, def.durable_name, config);
}

async function provisionBuckets(nc: NatsConnection, settings: ProvisionSettings): Promise<void> {
  await new Objm(nc).create(IMAGE_BUCKET, { ttl: nanos(IMAGE_TTL_MS), replicas: settings.replicas, storage: "file" } as never);
  if (settings.cacheTtlMs > 0) {
    await new Kvm(nc).create(CACHE_BUCKET, { ttl: settings.cacheTtlMs, history: 1, replicas: settings.replicas });
  }
}
