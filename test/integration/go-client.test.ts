/**
 * The protocol, not the SDK, is the contract: examples/go/main.go, written from docs/asyncapi.json alone with Debian's
 * nats.go (golang-github-nats-io-go-nats-dev, GOPATH mode, nothing downloaded), is built with `go build` and run
 * against a running service: one request through the durable stream (reply matched by id and Ofa-Request-Sha256), and
 * a policy list through the core front door.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const GOPATH = "/usr/share/gocode";
const haveGo = (() => {
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
    return existsSync(join(GOPATH, "src/github.com/nats-io/nats.go"));
  } catch {
    return false;
  }
})();

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: ROOT, env, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

test("go client - a Go program built from the AsyncAPI document classifies through the stream and the front door", { skip: !haveGo && "go or Debian's nats.go (scripts/prereqs.sh installs them) is missing", timeout: 180_000 }, async (t) => {
  const out = await mkdtemp(join(tmpdir(), "ofa-go-"));
  t.after(() => rm(out, { recursive: true, force: true }));
  const binary = join(out, "ofa-go");
  // GOPATH mode: Debian's Go packages, no module proxy. GOCACHE stays the user's (repeat builds take ~2 s); without a
  // HOME (some CI runners) Go has no default for it.
  const gocache = process.env.GOCACHE ?? (process.env.HOME ? undefined : join(tmpdir(), "ofa-go-cache"));
  await run("go", ["build", "-o", binary, "./examples/go"], { ...process.env, GO111MODULE: "off", GOPATH, GOFLAGS: "", ...(gocache ? { GOCACHE: gocache } : {}) });

  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const service = await Service.start(ns.url);
  t.after(() => service.stop());
  await service.waitReady(60_000);

  const lines = (await run(binary, [join(ROOT, "docs", "example.jpg"), "a colourful gradient", "a gradient", "two dogs"], { ...process.env, NATS_URL: ns.url }))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { channel: string; id: string; ok: boolean; label?: string; labels?: string[]; scores?: Record<string, number> });
  t.diagnostic(lines.map((l) => JSON.stringify(l)).join("\n"));
  const [stream, door] = lines;
  assert.equal(stream?.channel, "request-interactive");
  assert.equal(stream.ok, true);
  assert.ok(["yes", "no", "maybe"].includes(stream.label!), JSON.stringify(stream));
  assert.ok(Math.abs(stream.scores!.yes! + stream.scores!.no! + stream.scores!.maybe! - 1) < 1e-6);
  assert.equal(door?.channel, "classify");
  assert.equal(door.ok, true, JSON.stringify(door));
  assert.equal(door.labels?.length, 2);
});
