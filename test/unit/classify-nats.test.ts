/**
 * The nats.js classifier against the failures a real nats-server (and nats.js 3.4) produces: a full discard-new
 * stream, a message over the stream's max_msg_size, one over the connection's max_payload, no stream (no
 * responders), a request timeout. Each message text checked here is the server's or the library's real one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, errors } from "@nats-io/transport-node";
import { DiscardPolicy, JetStreamApiError, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { classifyNatsError, isRefusedClientCertificate } from "../../src/errors/classify-nats.ts";
import { NatsServer } from "../harness/nats-server.ts";

const failure = (p: Promise<unknown>) => p.then(() => assert.fail("expected a failure"), (err: unknown) => err);

test("classify-nats - a real server's refusals are classified by class and JetStream API code", async (t) => {
  const ns = await NatsServer.start({ maxPayload: "64KB" });
  t.after(() => ns.stop());
  const nc = await connect({ servers: ns.url });
  t.after(() => nc.close());
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "FULL", subjects: ["full.>"], max_msgs: 1, discard: DiscardPolicy.New, max_msg_size: 1024 });
  const js = jetstream(nc);
  await js.publish("full.a", "one");

  const full = await failure(js.publish("full.b", "two"));
  assert.ok(full instanceof JetStreamApiError, String(full));
  assert.equal(full.code, 10077);
  assert.match(full.message, /maximum messages exceeded/);
  assert.equal(classifyNatsError(full), "full");

  const tooBig = await failure(js.publish("full.c", new Uint8Array(2048)));
  assert.ok(tooBig instanceof JetStreamApiError, String(tooBig));
  assert.equal(tooBig.code, 10054);
  assert.match(tooBig.message, /message size exceeds maximum allowed/);
  assert.equal(classifyNatsError(tooBig), "too-large");

  const overPayload = await failure(js.publish("full.d", new Uint8Array(128 * 1024)));
  assert.ok(overPayload instanceof errors.InvalidArgumentError, String(overPayload));
  assert.match((overPayload as Error).message, /max_payload size exceeded/);
  assert.equal(classifyNatsError(overPayload), "too-large");

  const noStream = await failure(js.publish("nostream.x", "x", { timeout: 2_000 }));
  assert.match((noStream as Error).message, /jetstream is not enabled/);
  assert.equal(classifyNatsError(noStream), "transient");

  nc.subscribe("silent"); // a responder that never answers
  const timeout = await failure(nc.request("silent", "x", { timeout: 200 }));
  assert.ok(timeout instanceof errors.TimeoutError, String(timeout));
  assert.equal(classifyNatsError(timeout), "transient");

  assert.equal(classifyNatsError(new Error("maximum messages exceeded")), "other", "text alone never decides");
  assert.equal(classifyNatsError(undefined), "other");
});

test("classify-nats - a refused client certificate is recognised by Node's TLS code, and by the text nats.js copies", () => {
  const socketError = Object.assign(new Error("ssl3_read_bytes:sslv3 alert bad certificate"), { code: "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE" });
  assert.equal(isRefusedClientCertificate(new Error("wrapped", { cause: socketError })), true);
  assert.equal(isRefusedClientCertificate(Object.assign(new Error("x"), { code: "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED" })), true);
  assert.equal(isRefusedClientCertificate(new Error("C0D2:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate")), true);
  assert.equal(isRefusedClientCertificate(new Error("unable to verify the first certificate")), false);
});
