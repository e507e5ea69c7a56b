#!/usr/bin/env node
// The ofa-entail CLI. Node 24 runs the TypeScript sources directly (type stripping): no build step, no transpiler.
import { ensureNode24 } from "./node24.mjs";

await ensureNode24();
await import("../src/main.ts");
