#!/usr/bin/env node
// The load generator's CLI. Node 24 runs the TypeScript sources directly (type stripping): no build step.
import { ensureNode24 } from "./node24.mjs";

await ensureNode24();
await import("../loadgen/main.ts");
