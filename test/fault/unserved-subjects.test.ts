/**
 * Issue 24, item 5: the request stream takes exactly the served lanes. A request on a subject no consumer serves
 * (`ofa.ve.req.zzz`, `ofa.ve.req.interactive.x`) used to be kept for good: never answered, never expired, invisible in
 * ofa_consumer_pending, counted against the stream's bounds. Now the publish gets no stream acknowledgement (nothing
 * stores it), the stream has an age limit, and a deployment whose stream still has the old `ofa.ve.req.>` is
 * updated on start and loses the requests nobody would ever answer.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type StreamConfig } from "@nats-io/jetstream";
import { OfaClient } from "@ofa-entail/client/source";
import { loadConfig } from "../../src/config/index.ts";
import { Lane, STREAMS, requestSubject } from "../../src/protocol/index.ts";
import { desiredDefinitions } from "../../src/supervisor/provision.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { envelope, jpeg } from "../harness/requests.ts";

const DAY_NS = 86_400 * 1e9;
const UNSERVED = ["ofa.ve.req.zzz", "ofa.ve.req.interactive.x"];

test("fault - only served subjects are accepted: an existing stream is narrowed to the lanes on start, unserved requests are purged, a publish to another subject is refused", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const nc = await connect({ servers: ns.url });
  t.after(() => nc.close());
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);

  // An existing deployment: the request stream as it was provisioned before (every ofa.ve.req.> subject, no age limit).
  const old = { ...desiredDefinitions(loadConfig({}, {})).streams.find((s) => s.name === STREAMS.requests)!, subjects: ["ofa.ve.req.>"] } as Partial<StreamConfig> & { name: string };
  delete old.max_age;
  await jsm.streams.add(old);
  const image = await jpeg(64, 48, 1);
  for (const subject of UNSERVED) for (let i = 0; i < 3; i++) await js.publish(subject, envelope(image, `nobody serves ${subject} ${i}`));
  assert.equal((await jsm.streams.info(STREAMS.requests)).state.messages, 6, "the old stream took them");

  const service = await Service.start(ns.url);
  t.after(() => service.stop());
  await service.waitReady();

  const info = await jsm.streams.info(STREAMS.requests, { subjects_filter: ">" });
  assert.deepEqual([...info.config.subjects].sort(), [requestSubject(Lane.bulk), requestSubject(Lane.interactive)], "exactly the lanes");
  assert.equal(info.config.max_age, DAY_NS, "an age limit (OFA_REQUEST_MAX_AGE_MS, default 24 h)");
  assert.equal(info.state.messages, 0, `the unserved requests are gone: ${JSON.stringify(info.state.subjects)}`);
  assert.ok(service.lines.some((l) => l.msg === "JetStream provisioned" && JSON.stringify(l).includes("unserved ofa.ve.req.zzz")), "provisioning says what it purged");

  const before = info.state.last_seq;
  for (const subject of UNSERVED) {
    await assert.rejects(js.publish(subject, envelope(image, "refused"), { timeout: 5_000 }), `a publish to ${subject} gets no stream acknowledgement`);
  }
  assert.equal((await jsm.streams.info(STREAMS.requests)).state.last_seq, before, "nothing was stored");

  const client = new OfaClient(nc);
  t.after(() => client.close());
  const verdict = await client.classify({ image, text: "a served lane", timeoutMs: 20_000 });
  assert.ok(["yes", "no", "maybe"].includes(verdict.label), "the lanes are served as before");
});
