import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { NatsServer } from "../harness/nats-server.ts";

test("harness - starts a JetStream nats-server on a random port and restarts it on the same port", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const varz = await ns.varz();
  assert.ok(varz.jetstream, "JetStream enabled");
  const port = ns.port;
  await ns.restart();
  assert.equal(ns.port, port);
  const nc = await connect({ servers: ns.url });
  await nc.flush();
  await nc.close();
});
