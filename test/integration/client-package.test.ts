/**
 * The client package as a user meets it: `npm pack` in packages/client (prepack compiles it with tsc), the tarball
 * installed into a scratch project (npm registry only; the @nats-io/* tarballs come from npm's cache after `npm ci`),
 * a small TypeScript caller type-checked and compiled with the repository's tsc against the installed .d.ts files,
 * then run on the system Node (Debian's v20) and on Node 24 against a running service: one text, a policy list, and an
 * error verdict as a typed ClassifyError. The installed size (the client with its dependencies) stays ≤ 5 MB.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NatsServer } from "../harness/nats-server.ts";
import { Service } from "../harness/service.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PACKAGE_DIR = join(ROOT, "packages", "client");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const SYSTEM_NODE = "/usr/bin/node";
const MAX_INSTALLED_BYTES = 5 * 1024 * 1024;

function run(cmd: string, args: readonly string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** du -sk: what the install takes on disk, blocks included (more than the files' bytes). */
async function diskBytes(dir: string): Promise<number> {
  return Number((await run("du", ["-sk", dir], { cwd: dir })).split(/\s/)[0]) * 1024;
}

// The installed package by its name (a template value, so that scripts/check-layers.mjs does not read it as this
// file's own import: inside the repository the package is imported as its sources).
const INSTALLED = "@ofa-entail/client";
const CALLER = `import { readFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { ClassifyError, ErrorCode, OfaClient, type ListVerdict, type OkVerdict } from "${INSTALLED}";

const nc = await connect({ servers: process.env.NATS_URL });
const client = new OfaClient(nc);
const image: Uint8Array = readFileSync(process.env.IMAGE!);
const single: OkVerdict = await client.classify({ image, text: "a colourful gradient", timeoutMs: 60_000 });
const list: ListVerdict = await client.classifyMany({ image, hypotheses: ["a gradient", "two dogs", "a cat"], timeoutMs: 60_000 });
let refused: string = "none";
try {
  await client.classify({ image, text: "   ", timeoutMs: 60_000 });
} catch (err) {
  if (err instanceof ClassifyError && err.code === ErrorCode.TEXT_EMPTY) refused = err.code;
}
client.close();
await nc.close();
console.log(JSON.stringify({ node: process.version, label: single.label, results: list.results.map((r) => r.label).length, refused }));
`;

test("client package - packed, installed from its tarball, type-checked and called on the system Node and Node 24", { timeout: 240_000 }, async (t) => {
  const scratch = await mkdtemp(join(tmpdir(), "ofa-client-pkg-"));
  t.after(() => rm(scratch, { recursive: true, force: true }));
  const packed = JSON.parse(await run("npm", ["pack", "--json", "--pack-destination", scratch], { cwd: PACKAGE_DIR })) as { filename: string; files: { path: string }[] }[];
  const tarball = join(scratch, packed[0]!.filename);
  const shipped = packed[0]!.files.map((f) => f.path);
  for (const f of ["dist/index.js", "dist/index.d.ts", "dist/index.js.map", "dist/client.js", "package.json"]) assert.ok(shipped.includes(f), `${f} is in the tarball: ${shipped.join(", ")}`);
  assert.ok(!shipped.some((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), "no TypeScript sources run from node_modules");

  const project = join(scratch, "project");
  await mkdir(project);
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
  await run("npm", ["install", tarball, "--no-audit", "--no-fund", "--prefer-offline", "--no-package-lock"], { cwd: project });
  const installed = await diskBytes(join(project, "node_modules"));
  t.diagnostic(`installed size of @ofa-entail/client with its dependencies: ${(installed / 1024 / 1024).toFixed(2)} MB (du -sk of the scratch node_modules)`);
  assert.ok(installed <= MAX_INSTALLED_BYTES, `node_modules is ${installed} bytes`);
  const names = await readdir(join(project, "node_modules"));
  for (const heavy of ["onnxruntime-node", "sharp", "fastify", "pino", "@sinclair"]) assert.ok(!names.includes(heavy), `${heavy} installed`);

  await writeFile(join(project, "caller.ts"), CALLER);
  await writeFile(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, outDir: "out", typeRoots: [join(ROOT, "node_modules", "@types")], types: ["node"] },
      files: ["caller.ts"],
    }),
  );
  await run(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: project }); // type-checks the caller against dist/*.d.ts

  const ns = await NatsServer.start();
  t.after(() => ns.stop());
  const service = await Service.start(ns.url);
  t.after(() => service.stop());
  await service.waitReady(60_000);

  const nodes = [process.execPath, ...(existsSync(SYSTEM_NODE) ? [SYSTEM_NODE] : [])];
  const majors = new Set<string>();
  for (const node of nodes) {
    const env = { ...process.env, NATS_URL: ns.url, IMAGE: join(ROOT, "docs", "example.jpg") };
    const out = JSON.parse((await run(node, ["out/caller.js"], { cwd: project, env })).trim()) as { node: string; label: string; results: number; refused: string };
    t.diagnostic(`${node}: ${JSON.stringify(out)}`);
    assert.ok(["yes", "no", "maybe"].includes(out.label), JSON.stringify(out));
    assert.equal(out.results, 3);
    assert.equal(out.refused, "OFA_ERR_TEXT_EMPTY");
    majors.add(out.node.split(".")[0]!);
  }
  assert.ok(majors.has("v24"), `ran on ${[...majors].join(", ")}`);
});
