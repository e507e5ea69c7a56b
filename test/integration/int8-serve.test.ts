/**
 * OFA_PRECISION=int8 end to end: `ofa-entail serve` loads the tiny model's model.int8.onnx and answers through
 * NATS like fp32 does, its verdicts marked with the int8 model version (so the verdict cache keeps the two apart).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { OfaClient } from "@ofa-entail/client/source";
import { NatsServer } from "../harness/nats-server.ts";
import { Service, TINY_MODEL } from "../harness/service.ts";
import { jpeg } from "../harness/requests.ts";

describe("serve - OFA_PRECISION=int8", () => {
  let ns: NatsServer;
  let service: Service;
  let nc: NatsConnection;

  before(async () => {
    ns = await NatsServer.start();
    service = await Service.start(ns.url, { OFA_WORKERS: "1", OFA_PRECISION: "int8" });
    await service.waitReady();
    nc = await connect({ servers: ns.url });
  });
  after(async () => {
    await nc?.close();
    await service?.stop();
    await ns?.stop();
  });

  test("int8 - classify answers with the int8 model version and scores that sum to 1", async () => {
    const manifest = JSON.parse(await readFile(join(TINY_MODEL, "manifest.json"), "utf8")) as { version: string };
    const client = new OfaClient(nc);
    const verdict = await client.classify({ image: await jpeg(), text: "Two dogs are playing in the snow.", timeoutMs: 20_000 });
    client.close();
    assert.equal(verdict.model.version, `${manifest.version}-int8`);
    const { yes, no, maybe } = verdict.scores;
    assert.ok(Math.abs(yes + no + maybe - 1) < 1e-6, `scores sum to ${yes + no + maybe}`);
  });
});
