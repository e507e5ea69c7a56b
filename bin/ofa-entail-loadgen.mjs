#!/usr/bin/env node
// Runs the TypeScript load generator directly: tsx compiles on import, so there is no build step.
import { register } from "tsx/esm/api";

register();
await import("../loadgen/main.ts");
