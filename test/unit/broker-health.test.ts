import { test } from "node:test";
import assert from "node:assert/strict";
import { errors } from "@nats-io/transport-node";
import type { Logger } from "../../src/log/logger.ts";
import { BrokerHealth } from "../../src/supervisor/broker-health.ts";

function harness() {
  const lines: string[] = [];
  const logger = { info: (_o: unknown, m: string) => void lines.push(m), error: (_o: unknown, m: string) => void lines.push(m) } as unknown as Logger;
  const gauge: boolean[] = [];
  let timeouts = 0;
  let now = 1_000;
  const health = new BrokerHealth({ logger, onTimeout: () => void timeouts++, onResponsive: (up) => void gauge.push(up), now: () => now });
  return { health, lines, gauge, timeouts: () => timeouts, tick: (ms: number) => void (now += ms) };
}

test("broker health - two timeouts in a row make the broker silent: one log line, the gauge at 0, a /readyz reason; an answer ends it", () => {
  const h = harness();
  h.health.failed(new errors.TimeoutError());
  assert.equal(h.health.reason(), undefined, "one slow call is not silence");
  h.health.answered();
  h.health.failed(new errors.TimeoutError());
  h.tick(5_000);
  h.health.failed(new errors.TimeoutError());
  for (let i = 0; i < 10; i++) h.health.failed(new errors.TimeoutError());
  assert.match(h.health.reason()!, /^broker not answering: 12 JetStream API calls timed out since 1970-01-01T00:00:01.000Z/);
  assert.equal(h.timeouts(), 13);
  assert.deepEqual(h.gauge, [true, false]);
  assert.equal(h.lines.filter((l) => l.startsWith("broker not answering")).length, 1);
  h.health.failed(new Error("consumer not found")); // an error reply is an answer
  assert.equal(h.health.reason(), undefined);
  assert.deepEqual(h.gauge, [true, false, true]);
  assert.deepEqual(h.lines.slice(1), ["broker answers JetStream API calls again"]);
});
