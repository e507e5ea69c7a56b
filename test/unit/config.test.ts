import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, loadConfig, redactConfig } from "../../src/config/index.ts";
import { chooseLayout } from "../../src/supervisor/layout.ts";
import { restartDelayMs } from "../../src/supervisor/backoff.ts";

test("config - defaults work on a laptop; env and flags override them, flags last", () => {
  const c = loadConfig({}, {});
  assert.deepEqual(c.natsUrl, ["nats://127.0.0.1:4222"]);
  assert.equal(c.adminAddr, "127.0.0.1:9464", "admin binds loopback by default");
  const env = { NATS_URL: "nats://a:1,nats://b:2", OFA_MAX_BATCH: "4" };
  assert.deepEqual(loadConfig({}, env).natsUrl, ["nats://a:1", "nats://b:2"]);
  assert.equal(loadConfig({ maxBatch: "16" }, env).maxBatch, 16);
  assert.ok(Object.isFrozen(c));
});

test("config - every invalid value is reported at once, with the variable that carried it", () => {
  assert.throws(
    () => loadConfig({}, { OFA_MAX_BATCH: "lots", OFA_WORKERS: "-1", OFA_EXECUTION_PROVIDER: "tpu", OFA_ADMIN_ADDR: "nowhere" }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 4);
      assert.match(err.message, /OFA_MAX_BATCH/);
      assert.match(err.message, /OFA_EXECUTION_PROVIDER/);
      return true;
    },
  );
  assert.throws(() => loadConfig({}, { OFA_NATS_TOKEN: "t", OFA_NATS_USER: "u", OFA_NATS_PASSWORD: "p" }), /one NATS auth method/);

  // 30 s ack wait, 5 deliveries: 30 + 60 + 120 + 240 s of backoff and a last lease of 240 s.
  assert.throws(() => loadConfig({}, { OFA_REQUEST_MAX_AGE_MS: "600000" }), /OFA_REQUEST_MAX_AGE_MS: 600000 ms would drop a request before its last delivery ends .* 690000 ms/);
  assert.equal(loadConfig({}, { OFA_REQUEST_MAX_AGE_MS: "700000" }).requestMaxAgeMs, 700_000);
});

test("config - secrets are redacted for logs and /status", () => {
  const c = loadConfig({}, { OFA_NATS_TOKEN: "s3cr3t", OFA_ADMIN_TOKEN: "adm1n" });
  const shown = JSON.stringify(redactConfig(c));
  assert.ok(!shown.includes("s3cr3t") && !shown.includes("adm1n"));
});

test("layout - one worker using every core on 2 cores; a worker per 2 cores above; one per GPU on cuda", () => {
  assert.deepEqual(chooseLayout(2, { workers: 0, intraOpThreads: 0, executionProvider: "cpu" }), { workers: 1, intraOpThreads: 2 });
  assert.deepEqual(chooseLayout(16, { workers: 0, intraOpThreads: 0, executionProvider: "cpu" }), { workers: 8, intraOpThreads: 2 });
  assert.deepEqual(chooseLayout(16, { workers: 4, intraOpThreads: 0, executionProvider: "cpu" }), { workers: 4, intraOpThreads: 4 });
  assert.deepEqual(chooseLayout(16, { workers: 0, intraOpThreads: 0, executionProvider: "cuda" }), { workers: 1, intraOpThreads: 1 });
});

test("backoff - restarts double per consecutive crash and are capped at 30 s", () => {
  assert.deepEqual([1, 2, 3, 4].map((n) => restartDelayMs(n, 500)), [500, 1000, 2000, 4000]);
  assert.equal(restartDelayMs(20, 500), 30_000);
});
