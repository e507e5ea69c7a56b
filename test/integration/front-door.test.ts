import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, headers as natsHeaders } from "@nats-io/transport-node";
import { ErrorCode, Header, SERVICE_NAME, SERVICE_SUBJECT, decodeVerdictPayload } from "../../src/protocol/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";
import { envelope, jpeg } from "../harness/requests.ts";

test("front door - a plain NATS request to ofa.ve.classify is answered with the verdict, and the service is discoverable", async (t) => {
  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const service = await Service.start(ns.url);
  t.after(() => service.stop());
  await service.waitReady();
  const nc = await connect({ servers: ns.url });
  t.after(() => nc.close());

  const reply = await nc.request(SERVICE_SUBJECT, envelope(await jpeg(), "there are two birds."), { timeout: 20_000 });
  const verdict = decodeVerdictPayload(reply.data);
  assert.equal(verdict.ok, true);

  const h = natsHeaders();
  h.set(Header.MsgId, "front-door-bad");
  const bad = await nc.request(SERVICE_SUBJECT, "{not json", { timeout: 20_000, headers: h });
  const error = decodeVerdictPayload(bad.data);
  assert.equal(error.ok === false && error.error.code, ErrorCode.PAYLOAD_JSON);
  assert.equal(error.id, "front-door-bad");
  assert.equal(bad.headers?.get(Header.ServiceErrorCode), "400", "generic NATS clients see the micro error headers");

  const ping = (await nc.request(`$SRV.PING.${SERVICE_NAME}`, "", { timeout: 5_000 })).json<{ name: string; type: string }>();
  assert.equal(ping.name, SERVICE_NAME);
  const info = (await nc.request(`$SRV.INFO.${SERVICE_NAME}`, "", { timeout: 5_000 })).json<{ endpoints: Array<{ subject: string }> }>();
  assert.deepEqual(info.endpoints.map((e) => e.subject), [SERVICE_SUBJECT]);
  const stats = (await nc.request(`$SRV.STATS.${SERVICE_NAME}`, "", { timeout: 5_000 })).json<{ endpoints: Array<{ num_requests: number }> }>();
  assert.equal(stats.endpoints[0]!.num_requests, 2);
});
