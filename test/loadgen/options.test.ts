import { test } from "node:test";
import assert from "node:assert/strict";
import { LoadgenError, LoadgenErrorCode, Preset, resolveOptions } from "../../loadgen/index.ts";
import { inputFromFlags } from "../../loadgen/cli.ts";
import { parseDurationMs, parseNumberList, parseRangeMs } from "../../loadgen/parse.ts";

test("loadgen options - durations, ranges and lists parse as people type them", () => {
  const ms = (t: string) => {
    const r = parseDurationMs(t);
    return r.ok ? r.value : r.problem;
  };
  assert.equal(ms("500ms"), 500);
  assert.equal(ms("0.5s"), 500);
  assert.equal(ms("2"), 2000, "a bare number is seconds");
  assert.equal(ms("5m"), 300_000);
  assert.equal(ms("1m30s"), 90_000);
  assert.match(String(ms("5 minutes")), /not a duration/);
  assert.match(String(ms("10x")), /not a duration/);
  assert.deepEqual(parseRangeMs("0.5s..2s"), { ok: true, value: { minMs: 500, maxMs: 2000 } });
  assert.deepEqual(parseRangeMs("1s"), { ok: true, value: { minMs: 1000, maxMs: 1000 } });
  assert.equal(parseRangeMs("2s..1s").ok, false);
  assert.deepEqual(parseNumberList("1,2,4,8"), { ok: true, value: [1, 2, 4, 8] });
  assert.equal(parseNumberList("1,,4").ok, false);
});

test("loadgen options - --preset seed reproduces the Locust scenario, --duration overrides only the length", () => {
  const seed = resolveOptions({ preset: Preset.seed }, {});
  assert.equal(seed.model, "closed");
  assert.deepEqual(seed.phases[0]!.target, { kind: "closed", users: 20 });
  assert.equal(seed.spawnRatePerSec, 5);
  assert.deepEqual(seed.thinkMs, { minMs: 500, maxMs: 2000 });
  assert.equal(seed.phases[0]!.durationMs, 300_000);

  const flags = inputFromFlags({ preset: "seed", duration: "60s" }, "/tmp/out");
  const short = resolveOptions(flags, {});
  assert.equal(short.phases[0]!.durationMs, 60_000);
  assert.deepEqual(short.phases[0]!.target, { kind: "closed", users: 20 });
});

test("loadgen options - NATS URL from --nats, else NATS_URL, else the local default", () => {
  assert.equal(resolveOptions({ users: 1 }, {}).natsUrl, "nats://127.0.0.1:4222");
  assert.equal(resolveOptions({ users: 1 }, { NATS_URL: "nats://bus:4222" }).natsUrl, "nats://bus:4222");
  assert.equal(resolveOptions({ users: 1, natsUrl: "nats://x:1" }, { NATS_URL: "nats://bus:4222" }).natsUrl, "nats://x:1");
});

test("loadgen options - step mode builds one phase per step and needs an SLO", () => {
  const o = resolveOptions({ stepRates: [1, 2, 4], stepDurationMs: 10_000, sloMs: 420 }, {});
  assert.equal(o.stepped, true);
  assert.equal(o.model, "open");
  assert.deepEqual(o.phases.map((p) => p.name), ["1/s", "2/s", "4/s"]);
  assert.ok(o.phases.every((p) => p.durationMs === 10_000));
  assert.throws(() => resolveOptions({ stepUsers: [5, 10] }, {}), /needs --slo/);
});

test("loadgen options - every problem is reported at once with a stable code", () => {
  try {
    resolveOptions({ users: 0, ratePerSec: 5, timeoutMs: -1, maxErrorRate: 2 }, {});
    assert.fail("expected a LoadgenError");
  } catch (err) {
    assert.ok(err instanceof LoadgenError);
    assert.equal(err.code, LoadgenErrorCode.OPTIONS);
    assert.equal(err.problems.length, 4, err.problems.join("; "));
  }
  assert.throws(() => inputFromFlags({ rate: "fast", think: "2s..1s", duration: "soon" }, "/tmp"), (err: unknown) => {
    return err instanceof LoadgenError && err.problems.length === 3;
  });
  assert.throws(() => resolveOptions({}, {}), /choose a load/);
});
