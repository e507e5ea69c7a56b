// The layer rule: which part of the code may import which, checked over every import specifier of the .ts files
// (a regular expression, no parser, no dependencies). Fails on an edge outside the map below, on an import cycle,
// and on a second importer in src/ of a package that one module owns. Run by scripts/test.sh beside check-size.mjs.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";

// ---- The map (data). A layer is a folder of src/ (src/main.ts is "main") or a top-level folder outside it.
// `uses`: layers it may import. `lazy`: layers it may reach only through `import()` or `import type` (erased by type
// stripping, so nothing is loaded before the subcommand runs). `files`: single files of other layers it may import.
/** The files of src/ that bench/ may import (each one's header says what it offers). */
const BENCH_ENTRY_POINTS = ["src/config/index.ts", "src/model/index.ts", "src/consumer/index.ts", "src/supervisor/layout.ts"];
const SRC_LAYERS = ["protocol", "runtime", "errors", "log", "metrics", "config", "ipc", "nats", "broker", "model", "admin", "client", "consumer", "supervisor", "main"];
const LAYERS = {
  // The client package (packages/client): the SDK and the wire format. It imports nothing of the repository (it is
  // installed alone), and the repository reaches it only by its name, @ofa-entail/client/source (see below).
  packages: { uses: [] },
  protocol: { uses: [] }, // the service's side of the wire contract: validation, limits, trust, schemas for the docs
  runtime: { uses: [] }, // process-level helpers: shutdown bounds, promises with a deadline
  errors: { uses: ["protocol"] }, // one classifier per library (nats.js, sharp, onnxruntime)
  log: { uses: [] },
  metrics: { uses: [] },
  config: { uses: ["protocol"] },
  ipc: { uses: ["config", "protocol"], lazy: ["model"] }, // supervisor ⇄ worker process messages (model: types only)
  nats: { uses: ["config", "protocol", "errors"] }, // connection from config, verdict/dead-letter publisher
  broker: { uses: ["protocol"] }, // the embedded nats-server
  model: { uses: ["protocol", "config", "log", "errors"] },
  admin: { uses: ["protocol", "log", "metrics"] },
  client: { uses: ["protocol", "config", "nats", "errors"] },
  consumer: { uses: ["protocol", "config", "log", "metrics", "model", "nats", "ipc", "errors", "runtime"] },
  // The dead-letter mover settles what it answers with the workers' one retry policy (a pure module).
  supervisor: { uses: ["protocol", "config", "log", "metrics", "model", "nats", "ipc", "errors", "admin", "broker", "runtime"], files: ["src/consumer/settle.ts"] },
  // The CLI root loads only config at start; every subcommand is imported when it runs. `ofa-entail loadgen` is the
  // one allowed way from src/ into loadgen/: lazy, so a production image may leave loadgen/ out unless it runs it.
  main: { uses: ["config", "protocol", "runtime"], lazy: ["log", "client", "supervisor", "loadgen"] },
  // Outside src/: the load generator talks to the service like any client.
  loadgen: { uses: ["client", "protocol"] },
  // The benchmark drives the service as a user would (the CLI, the client package by name, loadgen's library) and
  // measures its parts through their public entry points only: the settings, the model API (with the pipeline parts it
  // exports for measuring them apart), the consumer as a library, the default workers × threads rule. It starts its
  // throwaway nats-servers with the test harness's launcher (temp store, random ports), which is test tooling and stays
  // out of src/; bench/ is never shipped either.
  bench: { uses: [], files: [...BENCH_ENTRY_POINTS, "loadgen/index.ts", "test/harness/nats-server.ts"] },
  test: { uses: [...SRC_LAYERS, "loadgen", "bench", "scripts", "test"] },
  scripts: { uses: [...SRC_LAYERS, "loadgen", "bench", "scripts"] }, // dev tools: docs, perf table, observability
};
/** Packages one module of src/ owns: a second importer would spread their setup (threads, limits, logging). */
const SINGLE_OWNER = ["onnxruntime-node", "sharp", "fastify", "pino"];
/** What the client package may import besides its own files: its dependencies are the @nats-io/* packages only. */
const CLIENT_PACKAGE_DEPS = /^(node:|@nats-io\/)/;
/** Inside the repository the client package is imported as its sources (Node 24 strips their types; the workspace
 *  link resolves outside node_modules). Its main entry is the compiled dist/, which exists only once it is packed. */
const CLIENT_SOURCE = "@ofa-entail/client/source";

const ROOT = normalize(join(dirname(new URL(import.meta.url).pathname), ".."));
const problems = [];

function files(dir) {
  let names;
  try {
    names = readdirSync(join(ROOT, dir));
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules") return [];
    if (statSync(join(ROOT, path)).isDirectory()) return files(path);
    return /\.(ts|mts)$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

function layerOf(path) {
  const parts = path.split(sep);
  if (parts[0] === "src") return parts.length === 2 ? "main" : parts[1];
  return parts[0];
}

const STATIC = /^[ \t]*(import|export)[ \t]+(type[ \t]+)?(?:[\w$]+[ \t]*,[ \t]*)?(?:\{[^}]*\}|\*[ \t]*(?:as[ \t]+[\w$]+)?|[\w$]+)[ \t\n]*from[ \t]*["']([^"']+)["']/gm;
const BARE = /^[ \t]*import[ \t]*["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** Every import of a file: { spec, kind: "static" | "type" | "dynamic" }, comments left out. */
function importsOf(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^[ \t]*\/\/.*$/gm, "");
  const out = [];
  for (const m of code.matchAll(STATIC)) out.push({ spec: m[3], kind: m[2] ? "type" : "static" });
  for (const m of code.matchAll(BARE)) out.push({ spec: m[1], kind: "static" });
  for (const m of code.matchAll(DYNAMIC)) out.push({ spec: m[1], kind: "dynamic" });
  return out;
}

const graph = new Map(); // file → files it imports (runtime and type edges alike)
const owners = new Map(); // package → src files importing it (not type-only)
for (const file of ["packages", "src", "loadgen", "bench", "test", "scripts"].flatMap(files)) {
  const from = layerOf(file);
  const rule = LAYERS[from];
  if (!rule) problems.push(`${file}: folder "${from}" has no entry in the layer map (scripts/check-layers.mjs)`);
  const edges = [];
  for (const { spec, kind } of importsOf(readFileSync(join(ROOT, file), "utf8"))) {
    if (!spec.startsWith(".")) {
      if (from === "packages" && !CLIENT_PACKAGE_DEPS.test(spec)) problems.push(`${file} imports ${spec}: the client package may import only node:* and @nats-io/*`);
      if (from !== "packages" && spec.startsWith("@ofa-entail/client") && spec !== CLIENT_SOURCE) problems.push(`${file} imports ${spec}: inside the repository import ${CLIENT_SOURCE}`);
      const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
      if (from !== "test" && from !== "bench" && from !== "loadgen" && from !== "scripts" && kind !== "type" && SINGLE_OWNER.includes(pkg)) {
        owners.set(pkg, [...(owners.get(pkg) ?? []), file]);
      }
      continue;
    }
    const target = normalize(join(dirname(file), spec));
    if (!/\.(ts|mts)$/.test(target)) continue; // JSON and other data
    edges.push(target);
    const to = layerOf(target);
    if (!rule || to === from) continue;
    const allowed = rule.uses.includes(to) || (rule.files ?? []).includes(target.split(sep).join("/"));
    const lazyOk = (rule.lazy ?? []).includes(to) && kind !== "static";
    if (!allowed && !lazyOk) {
      const how = (rule.lazy ?? []).includes(to) ? ` (only lazily: import() or import type; this is a static import)` : "";
      problems.push(`${file} → ${target}: ${from} may not import ${to}${how}`);
    }
  }
  graph.set(file, edges);
}

for (const [pkg, importers] of owners) {
  if (importers.length > 1) problems.push(`${pkg} is imported by ${importers.length} modules of src/ (${importers.join(", ")}); one module owns it`);
}

// Cycles: depth-first search over the file graph; each cycle is reported once, by the path that closes it.
const state = new Map(); // file → "open" | "done"
const stack = [];
function visit(file) {
  state.set(file, "open");
  stack.push(file);
  for (const next of graph.get(file) ?? []) {
    if (state.get(next) === "open") problems.push(`import cycle: ${[...stack.slice(stack.indexOf(next)), next].join(" → ")}`);
    else if (!state.has(next) && graph.has(next)) visit(next);
  }
  stack.pop();
  state.set(file, "done");
}
for (const file of graph.keys()) if (!state.has(file)) visit(file);

if (problems.length > 0) {
  console.error(`layer check failed (scripts/check-layers.mjs):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`layers ok: ${graph.size} files, ${[...graph.values()].reduce((n, e) => n + e.length, 0)} imports, no cycle (${relative(process.cwd(), ROOT) || "."})`);
