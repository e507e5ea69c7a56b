#!/usr/bin/env node
// The ofa-entail CLI. Node 24 runs the TypeScript sources directly (type stripping): no build step, no transpiler.
// A namespace import: Node 20 has no enableCompileCache, and a named import of it would fail before the hand-over.
import * as nodeModule from "node:module";
import { ensureNode24 } from "./node24.mjs";

await ensureNode24();
// V8's code cache (and, on Node 24, the type-stripped sources) under the temp dir: a repeated start skips most of
// parsing and stripping. A read-only or missing temp dir only disables it.
nodeModule.enableCompileCache?.();
await import("../src/main.ts");
