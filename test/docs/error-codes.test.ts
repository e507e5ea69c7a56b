/**
 * Every code in the catalogue is raised somewhere in src/ (a code nothing raises is dead or forgotten) and has its
 * entry in docs/errors.md. "Raised": named as `ErrorCode.X` outside the catalogue itself.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ErrorCode } from "../../src/protocol/index.ts";

const root = new URL("../../", import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

// The catalogue is the client package's (packages/client/src/errors.ts); the SDK raises the client-side codes.
test("error codes - every catalogue code is raised in src/ or the client package and documented in docs/errors.md", () => {
  const catalogue = [join("src", "protocol", "errors.ts"), join("packages", "client", "src", "errors.ts")];
  const code = [...sources("src"), ...sources(join("packages", "client", "src"))]
    .filter((f) => !catalogue.includes(f))
    .map((f) => readFileSync(join(root, f), "utf8"))
    .join("\n");
  const docs = readFileSync(join(root, "docs/errors.md"), "utf8");
  for (const [key, value] of Object.entries(ErrorCode)) {
    assert.match(code, new RegExp(`ErrorCode\\.${key}\\b`), `${value} is raised nowhere in src/`);
    assert.match(docs, new RegExp(`^## ${value}$`, "m"), `${value} has no entry in docs/errors.md`);
  }
});
