/**
 * Issue 10, observation 6: without a token, POST /model/reload (which loads any path it is given) is served only on a
 * loopback admin port; and idle connections cannot hold the admin port open, they are timed out.
 * The real admin server (fastify) listening on a real socket; its source is a small recording fake.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect as tcpConnect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { buildAdmin, type AdminSource } from "../../src/admin/server.ts";
import { createLogger } from "../../src/log/logger.ts";
import { until } from "../harness/wait.ts";

function source(reloads: Array<string | undefined>): AdminSource {
  return {
    health: () => ({ alive: true, reasons: [] }),
    readiness: () => ({ ready: true, reasons: [] }),
    metrics: async () => ({ contentType: "text/plain", body: "" }),
    status: async () => ({}),
    asyncApi: () => ({}),
    reloadModel: async (dir) => {
      reloads.push(dir);
      return { ok: true };
    },
  };
}

const reload = (base: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/model/reload`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ modelDir: "/tmp/anything" }) });

test("security - admin: without a token, POST /model/reload is refused unless the admin port is loopback; with one, it needs it", async (t) => {
  const logger = createLogger("silent");
  for (const [loopback, token, header, expected] of [
    [false, undefined, undefined, 403],
    [true, undefined, undefined, 200],
    [false, "s3cret", undefined, 401],
    [false, "s3cret", "Bearer s3cret", 200],
  ] as const) {
    const reloads: Array<string | undefined> = [];
    const app = buildAdmin({ source: source(reloads), token, logger, loopback });
    t.after(() => app.close());
    const base = await app.listen({ host: "127.0.0.1", port: 0 });
    const res = await reload(base, header ? { authorization: header } : {});
    assert.equal(res.status, expected, `loopback=${loopback} token=${token ?? "none"}: ${await res.text()}`);
    assert.equal(reloads.length, expected === 200 ? 1 : 0, "the model was reloaded only when allowed");
    await app.close();
  }
});

test("security - admin: idle and stalled connections are closed by the server, so they cannot hold the port", async (t) => {
  const app = buildAdmin({ source: source([]), token: undefined, logger: createLogger("silent"), loopback: true, timeouts: { connectionTimeoutMs: 500, keepAliveTimeoutMs: 500, requestTimeoutMs: 1_000 } });
  t.after(() => app.close());
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const sockets: Socket[] = [];
  let closed = 0;
  t.after(() => sockets.forEach((s) => s.destroy()));
  for (let i = 0; i < 50; i++) {
    const s = tcpConnect({ host: "127.0.0.1", port });
    s.on("error", () => undefined);
    s.once("close", () => (closed += 1));
    // Half the sockets say nothing; the other half start a request and stall in the middle of its headers.
    if (i % 2 === 1) s.once("connect", () => s.write("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
    sockets.push(s);
  }
  await until(() => closed === sockets.length, { name: `all ${sockets.length} idle or stalled connections closed by the server (${closed} so far)`, timeoutMs: 20_000 });
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(res.status, 200, "the port still serves");
});

test("security - admin: the default timeouts are bounded", async () => {
  const { ADMIN_TIMEOUTS } = await import("../../src/admin/server.ts");
  for (const [name, ms] of Object.entries(ADMIN_TIMEOUTS)) assert.ok(ms > 0 && ms <= 30_000, `${name} = ${ms}`);
});
