#!/usr/bin/env node
// Compiles src/model/wasm/*.wat to .wasm with wabt (a devDependency: only this build and its test need it;
// the service loads the committed .wasm). `--check` rebuilds in memory and fails when a committed .wasm differs.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "../src/model/wasm");

export async function compileWat(path) {
  const wabt = await wabtInit();
  const mod = wabt.parseWat(path, readFileSync(path, "utf8"), { simd: true });
  try {
    mod.validate();
    return Buffer.from(mod.toBinary({ log: false, write_debug_names: false }).buffer);
  } finally {
    mod.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const name of readdirSync(DIR).filter((f) => f.endsWith(".wat"))) {
    const bin = await compileWat(join(DIR, name));
    const out = join(DIR, name.replace(/\.wat$/, ".wasm"));
    if (check) {
      let old;
      try { old = readFileSync(out); } catch { old = Buffer.alloc(0); }
      if (!old.equals(bin)) { stale++; console.error(`${out} is not the build of ${name}; run npm run build:wasm`); }
    } else {
      writeFileSync(out, bin);
      console.log(`${out}: ${bin.length} bytes`);
    }
  }
  process.exitCode = stale ? 1 : 0;
}
