/**
 * scripts/check-layers.mjs run on small trees of its own (a copy of the script in a temp repo): it passes a tree
 * that keeps the map and fails, naming the edge, on each rule broken: a static import where only a lazy one is
 * allowed, an import outside the map, a cycle, a second owner of pino.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const SCRIPT = new URL("../../scripts/check-layers.mjs", import.meta.url).pathname;

function check(tree: Record<string, string>): { ok: boolean; output: string } {
  const root = mkdtempSync(join(tmpdir(), "ofa-layers-"));
  try {
    mkdirSync(join(root, "scripts"));
    copyFileSync(SCRIPT, join(root, "scripts", "check-layers.mjs"));
    for (const [path, text] of Object.entries(tree)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const run = spawnSync(process.execPath, [join(root, "scripts", "check-layers.mjs")], { encoding: "utf8" });
    return { ok: run.status === 0, output: run.stdout + run.stderr };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const GOOD = {
  "src/protocol/errors.ts": "export const E = 1;\n",
  "src/config/load.ts": 'import { E } from "../protocol/errors.ts";\nexport const C = E;\n',
  "src/log/logger.ts": 'import { pino } from "pino";\nexport const L = pino;\n',
  "src/client/cli.ts": 'import {\n  C,\n} from "../config/load.ts";\nexport const run = C;\n',
  "src/main.ts": 'import { C } from "./config/load.ts";\nimport type { X } from "../loadgen/main.ts";\nawait import("./client/cli.ts");\nawait import("../loadgen/main.ts");\n',
  "loadgen/main.ts": "export type X = 1;\n",
};

test("check-layers - a tree that keeps the map passes; lazy and type-only edges from main are allowed", () => {
  const { ok, output } = check(GOOD);
  assert.ok(ok, output);
  assert.match(output, /layers ok: 6 files/);
});

test("check-layers - a static import of a lazy-only layer fails", () => {
  const { ok, output } = check({ ...GOOD, "src/main.ts": 'import "../loadgen/main.ts";\n' });
  assert.equal(ok, false);
  assert.match(output, /src\/main\.ts → loadgen\/main\.ts: main may not import loadgen \(only lazily/);
});

test("check-layers - an edge outside the map fails (protocol imports config)", () => {
  const { ok, output } = check({ ...GOOD, "src/protocol/errors.ts": 'import { C } from "../config/load.ts";\nexport const E = C;\n' });
  assert.equal(ok, false);
  assert.match(output, /protocol may not import config/);
});

test("check-layers - a cycle fails, even through type-only imports", () => {
  const { ok, output } = check({
    ...GOOD,
    "src/protocol/a.ts": 'import type { B } from "./b.ts";\nexport type A = B;\n',
    "src/protocol/b.ts": 'import { type A } from "./a.ts";\nexport type B = A;\n',
  });
  assert.equal(ok, false);
  assert.match(output, /import cycle: src\/protocol\/(a|b)\.ts → src\/protocol\/(a|b)\.ts → /);
});

test("check-layers - a second importer of pino in src/ fails; tests may import it freely", () => {
  assert.ok(check({ ...GOOD, "test/unit/x.test.ts": 'import { pino } from "pino";\n' }).ok);
  const { ok, output } = check({ ...GOOD, "src/config/log.ts": 'import pino from "pino";\nexport const P = pino;\n' });
  assert.equal(ok, false);
  assert.match(output, /pino is imported by 2 modules of src\//);
});

test("check-layers - a folder missing from the map fails", () => {
  const { ok, output } = check({ ...GOOD, "src/extra/x.ts": "export const X = 1;\n" });
  assert.equal(ok, false);
  assert.match(output, /folder "extra" has no entry in the layer map/);
});

test("check-layers - the client package imports only node:* and @nats-io/*; the repository reaches it by name only", () => {
  const pkg = { "packages/client/src/index.ts": 'import { connect } from "@nats-io/transport-node";\nimport { createHash } from "node:crypto";\nexport const X = [connect, createHash];\n' };
  assert.ok(check({ ...GOOD, ...pkg, "loadgen/main.ts": 'import { X } from "@ofa-entail/client/source";\nexport type Y = typeof X;\n' }).ok);
  const sharp = check({ ...GOOD, "packages/client/src/index.ts": 'import sharp from "sharp";\nexport const X = sharp;\n' });
  assert.equal(sharp.ok, false);
  assert.match(sharp.output, /the client package may import only node:\* and @nats-io\/\*/);
  const dist = check({ ...GOOD, ...pkg, "loadgen/main.ts": 'import { X } from "@ofa-entail/client";\nexport type Y = typeof X;\n' });
  assert.equal(dist.ok, false);
  assert.match(dist.output, /inside the repository import @ofa-entail\/client\/source/);
  const relative = check({ ...GOOD, ...pkg, "loadgen/main.ts": 'import { X } from "../packages/client/src/index.ts";\nexport type Y = typeof X;\n' });
  assert.equal(relative.ok, false);
  assert.match(relative.output, /loadgen may not import packages/);
});

test("check-layers - bench/ reaches src/ only through its entry points, and loadgen/ only through its index", () => {
  const tree = {
    ...GOOD,
    "src/config/index.ts": 'export { C } from "./load.ts";\n',
    "loadgen/index.ts": 'export type { X } from "./main.ts";\n',
    "bench/main.ts": 'import { C } from "../src/config/index.ts";\nimport type { X } from "../loadgen/index.ts";\n',
  };
  const entry = check(tree);
  assert.ok(entry.ok, entry.output);
  const internal = check({ ...tree, "bench/main.ts": 'import { C } from "../src/config/load.ts";\n' });
  assert.equal(internal.ok, false);
  assert.match(internal.output, /bench\/main\.ts → src\/config\/load\.ts: bench may not import config/);
  const loadgenInternal = check({ ...tree, "bench/main.ts": 'import type { X } from "../loadgen/main.ts";\n' });
  assert.equal(loadgenInternal.ok, false);
  assert.match(loadgenInternal.output, /bench\/main\.ts → loadgen\/main\.ts: bench may not import loadgen/);
});
