/**
 * The repository stands alone: no file points a reader at notes that live outside it, and every section a comment
 * cites in docs/ofa-ve.md or docs/platform-notes.md exists there.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

const BINARY = /\.(onnx|wasm|jpg|jpeg|png|webp|gif|bin|gz|xz|tgz)$/i;

/** Text files git tracks (binary files and model weights are skipped by extension); without git, the work tree. */
function trackedTextFiles(): string[] {
  try {
    const out = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return out.split("\0").filter((f) => f && !BINARY.test(f));
  } catch {
    return walk("").filter((f) => !BINARY.test(f)); // a copy without .git (a tarball, a device machine)
  }
}

function walk(dir: string): string[] {
  return readdirSync(new URL(dir || ".", root), { withFileTypes: true }).flatMap((e) => {
    if (e.name === "node_modules" || e.name.startsWith(".")) return [];
    const path = dir ? `${dir}/${e.name}` : e.name;
    return e.isDirectory() ? walk(path) : [path];
  });
}

// Spelled in pieces so that this file does not match itself.
const outside = ["ofa-ve.md", "stack-probe.md", "STYLE.md", "DESIGN.md"].map((name) => "shared" + "/" + name);
const forbidden = [...outside, ".." + "/shared"];

test("docs - no tracked file cites notes outside the repository", () => {
  const hits: string[] = [];
  for (const file of trackedTextFiles()) {
    let text: string;
    try {
      text = read(file);
    } catch {
      continue; // listed by git but absent from the work tree (e.g. deleted, not yet staged)
    }
    text.split("\n").forEach((line, i) => {
      for (const needle of forbidden) if (line.includes(needle)) hits.push(`${file}:${i + 1}: ${needle}`);
    });
  }
  assert.deepEqual(hits, [], "cite a file inside the repository (docs/ofa-ve.md, docs/platform-notes.md) instead");
});

test("docs - every cited section of docs/ofa-ve.md and docs/platform-notes.md exists", () => {
  const sections = (doc: string) => new Set([...read(doc).matchAll(/^## (\d+)\. /gm)].map((m) => m[1]));
  const docs = { "docs/ofa-ve.md": sections("docs/ofa-ve.md"), "docs/platform-notes.md": sections("docs/platform-notes.md") };
  const missing: string[] = [];
  for (const file of trackedTextFiles()) {
    let text: string;
    try {
      text = read(file);
    } catch {
      continue;
    }
    for (const [doc, have] of Object.entries(docs)) {
      // "docs/ofa-ve.md §5, §10", "docs/ofa-ve.md` §2", "docs/ofa-ve.md §5.4"
      for (const m of text.matchAll(new RegExp(`${doc.replace(".", "\\.")}\`? ((?:§\\d+(?:\\.\\d+)?(?:, | and )?)+)`, "g"))) {
        for (const s of m[1]!.matchAll(/§(\d+)/g)) if (!have.has(s[1]!)) missing.push(`${file}: ${doc} §${s[1]}`);
      }
    }
  }
  assert.ok(docs["docs/ofa-ve.md"].size >= 10, "docs/ofa-ve.md has its numbered sections");
  assert.deepEqual(missing, []);
});
