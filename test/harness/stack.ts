/** A nats-server, a running service and a connected client for one test, torn down in reverse order afterwards. */
import type { TestContext } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { OfaClient } from "@ofa-entail/client/source";
import { NatsServer } from "./nats-server.ts";
import { Service } from "./service.ts";

export interface Stack {
  readonly ns: NatsServer;
  readonly service: Service;
  readonly nc: NatsConnection;
  readonly client: OfaClient;
}

export async function startStack(t: TestContext, env: Record<string, string> = {}, readyTimeoutMs = 30_000): Promise<Stack> {
  const cleanups: Array<() => unknown> = [];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const ns = await NatsServer.start();
  cleanups.push(() => ns.stop());
  const service = await Service.start(ns.url, env);
  cleanups.push(() => service.stop());
  await service.waitReady(readyTimeoutMs);
  const nc = await connect({ servers: ns.url });
  cleanups.push(() => nc.close());
  const client = new OfaClient(nc);
  cleanups.push(() => client.close());
  return { ns, service, nc, client };
}
