/** Shared checks of the security suite: a service that serves under given credentials and leaks none, or refuses to start. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect, type ConnectionOptions } from "@nats-io/transport-node";
import { OfaClient } from "@ofa-entail/client/source";
import { jpeg } from "../harness/requests.ts";
import { leaks, ServeProcess } from "./serve-process.ts";

/** A secret long and random enough that finding it anywhere means it leaked. */
export function secret(label: string): string {
  return `${label}-${randomBytes(16).toString("hex")}`;
}

/**
 * Starts `serve` with `env` (at trace level, so that as much as possible is logged), sends one request through a
 * client connected with `client`, reads /status and /metrics, stops it, and checks that none of `secrets` appears
 * in anything the service wrote or served.
 */
export async function expectServesWithoutLeaks(
  natsUrl: string,
  env: Record<string, string>,
  client: Partial<ConnectionOptions>,
  secrets: readonly string[],
): Promise<ServeProcess> {
  const service = await ServeProcess.start(natsUrl, { OFA_LOG_LEVEL: "trace", ...env });
  try {
    const nc = await connect({ servers: natsUrl, ...client });
    try {
      const sdk = new OfaClient(nc);
      const verdict = await sdk.classify({ image: await jpeg(96, 64, 3), text: "a flat coloured square", timeoutMs: 20_000 });
      sdk.close();
      assert.ok(["yes", "no", "maybe"].includes(verdict.label));
    } finally {
      await nc.close();
    }
    const status = await service.get("/status");
    const metrics = await service.get("/metrics");
    assert.equal(status.status, 200);
    assert.equal(metrics.status, 200);
    const exit = await service.stop();
    assert.equal(exit.code, 0, "clean exit");
    assert.deepEqual(leaks({ "service output": service.output, "/status": status.text, "/metrics": metrics.text }, secrets), []);
    return service;
  } finally {
    await service.stop();
  }
}

/**
 * Starts `serve` with credentials or certificates that must not work: it has to exit on its own, non-zero,
 * with a fatal line whose message matches `problem`, and without echoing any of `secrets`.
 */
export async function expectRefused(
  natsUrl: string,
  env: Record<string, string>,
  problem: RegExp,
  secrets: readonly string[] = [],
  exitCode = 1,
): Promise<string> {
  // Bounded well under nats.js's 20 s connect timeout: a refusal must come from the cause, not from a timeout.
  const result = await ServeProcess.refused(natsUrl, env, 10_000);
  assert.equal(result.code, exitCode, `exit status; output:\n${result.output.slice(-1500)}`);
  assert.match(result.output, problem, "the output names the problem");
  if (exitCode === 1) assert.match(result.output, /"level":60,.*"msg":"could not start"/, "one fatal line says so");
  assert.deepEqual(leaks({ "service output": result.output }, secrets), []);
  return result.output;
}
