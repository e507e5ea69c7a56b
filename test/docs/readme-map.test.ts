/**
 * The README's "Where is what" gives every source file of src/ a home, and names only files that exist: a file added,
 * moved or renamed without its row fails here.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    return statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : [path];
  });
}

function whereIsWhat(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.split("\n## Where is what\n")[1];
  assert.ok(section, "README.md has a Where is what section");
  return section.split("\n## ")[0]!;
}

test("docs - the README's Where is what lists every file of src/", () => {
  const map = whereIsWhat();
  const named = new Set([...map.matchAll(/`(src\/[^`\s]+)`/g)].map((m) => m[1]));
  const missing = filesUnder("src").filter((f) => !named.has(f));
  assert.deepEqual(missing, [], "give each a row (or a place in one) in README.md's Where is what");
});

test("docs - every src/ file the README's Where is what names exists", () => {
  const gone = [...whereIsWhat().matchAll(/`(src\/[^`\s]+)`/g)].map((m) => m[1]!).filter((f) => !existsSync(join(ROOT, f)));
  assert.deepEqual(gone, []);
});
