/**
 * The admin port: it binds 127.0.0.1 unless told otherwise, and with OFA_ADMIN_TOKEN set, /status and /metrics
 * need `Authorization: Bearer <token>` while the probes (/healthz, /readyz) stay open for the orchestrator.
 * The admin token, like every other secret, never appears in the logs, in /status or in a 401.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect as tcpConnect, createServer } from "node:net";
import { networkInterfaces } from "node:os";
import { loadConfig } from "../../src/config/index.ts";
import { NatsServer } from "../harness/nats-server.ts";
import { secret } from "./helpers.ts";
import { leaks, ServeProcess } from "./serve-process.ts";

const DEFAULT_ADMIN = { host: "127.0.0.1", port: 9464 };

/** Whether something already listens on 127.0.0.1:port (then the default-address test cannot run here). */
async function portTaken(port: number): Promise<boolean> {
  const server = createServer();
  const taken = await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(true));
    server.listen(port, DEFAULT_ADMIN.host, () => resolve(false));
  });
  if (!taken) await new Promise((r) => server.close(r));
  return taken;
}

/** How a TCP connect to host:port ends: "connected" or the error code (ECONNREFUSED…). */
function tcpOutcome(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port, timeout: 2_000 });
    socket.once("connect", () => (socket.destroy(), resolve("connected")));
    socket.once("timeout", () => (socket.destroy(), resolve("timeout")));
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** This machine's own non-loopback IPv4 addresses. */
function externalAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).filter((a) => a.family === "IPv4" && !a.internal).map((a) => a.address));
}

describe("security - the admin port", () => {
  let ns: NatsServer;
  before(async () => {
    ns = await NatsServer.start();
  });
  after(() => ns?.stop());

  test("security - admin: the default address is 127.0.0.1:9464", () => {
    assert.equal(loadConfig({}, {}).adminAddr, `${DEFAULT_ADMIN.host}:${DEFAULT_ADMIN.port}`);
  });

  test("security - admin: started with the default address it listens on loopback only: other interfaces of the machine refuse the port", async (t) => {
    if (await portTaken(DEFAULT_ADMIN.port)) {
      t.skip(`something else listens on ${DEFAULT_ADMIN.host}:${DEFAULT_ADMIN.port} on this machine`);
      return;
    }
    const service = await ServeProcess.start(ns.url, { OFA_ADMIN_ADDR: "" }); // empty = unset: the default applies
    t.after(() => service.stop());
    assert.equal(service.adminUrl, `http://${DEFAULT_ADMIN.host}:${DEFAULT_ADMIN.port}`);
    assert.equal((await service.get("/readyz")).status, 200);
    const others = externalAddresses();
    if (others.length === 0) t.diagnostic("this machine has no non-loopback IPv4 address to try the port on");
    for (const address of others) {
      assert.equal(await tcpOutcome(address, DEFAULT_ADMIN.port), "ECONNREFUSED", `port ${DEFAULT_ADMIN.port} on ${address}`);
    }
    // Without a token the data endpoints are open: loopback is the protection, and the token is for exposure.
    assert.equal((await service.get("/status")).status, 200);
  });

  describe("security - admin bearer token", () => {
    const token = secret("admin");
    let service: ServeProcess;
    before(async () => {
      service = await ServeProcess.start(ns.url, { OFA_ADMIN_TOKEN: token, OFA_LOG_LEVEL: "trace" });
    });
    after(() => service?.stop());

    for (const path of ["/status", "/metrics"]) {
      test(`security - admin token: ${path} answers 401 without the bearer token, with a wrong one or another scheme, and 200 with it`, async () => {
        const refused: Record<string, string>[] = [
          {},
          { authorization: `Bearer ${secret("admin")}` },
          { authorization: `Bearer ${token}x` },
          { authorization: `Bearer ${token.slice(0, -1)}` },
          { authorization: token },
          { authorization: `Basic ${Buffer.from(`admin:${token}`).toString("base64")}` },
        ];
        for (const headers of refused) {
          const res = await service.get(path, headers);
          assert.equal(res.status, 401, `${path} with ${JSON.stringify(Object.keys(headers))}`);
          assert.ok(!res.text.includes(token), "a 401 does not echo the token");
        }
        const ok = await service.get(path, { authorization: `Bearer ${token}` });
        assert.equal(ok.status, 200, ok.text);
      });
    }

    test("security - admin token: /healthz and /readyz stay open without it (orchestrator probes)", async () => {
      assert.equal((await service.get("/healthz")).status, 200);
      assert.equal((await service.get("/readyz")).status, 200);
    });

    test("security - admin token: the token never appears in the service's logs, /status or /metrics", async () => {
      const status = await service.get("/status", { authorization: `Bearer ${token}` });
      const metrics = await service.get("/metrics", { authorization: `Bearer ${token}` });
      assert.equal(status.status, 200);
      assert.match(status.text, /"adminToken":"\[redacted\]"/, "/status shows that a token is set, not which");
      await service.stop();
      assert.deepEqual(leaks({ "service output": service.output, "/status": status.text, "/metrics": metrics.text }, [token]), []);
    });
  });
});
