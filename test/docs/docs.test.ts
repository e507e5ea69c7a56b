import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ERROR_SPECS } from "../../src/protocol/index.ts";
import { asyncApiJson, configMarkdown, metricsMarkdown } from "../../scripts/gen-docs.ts";
import { exportedMetricNames } from "../../src/metrics/definitions.ts";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

test("docs - every error code has an entry in docs/errors.md, and every entry names a real code", () => {
  const documented = [...read("docs/errors.md").matchAll(/^## (OFA_ERR_[A-Z0-9_]+)$/gm)].map((m) => m[1]);
  assert.deepEqual([...documented].sort(), Object.keys(ERROR_SPECS).sort());
  for (const [code, spec] of Object.entries(ERROR_SPECS)) {
    const entry = read("docs/errors.md").split(`## ${code}\n`)[1]!.split("\n## ")[0]!;
    assert.match(entry, new RegExp(`^Status ${spec.status}, ${spec.retryable ? "retryable" : "not retryable"}\\.`), `${code} status/retryable`);
  }
});

test("docs - docs/config.md is the generated table of every setting (run `npm run docs` after changing one)", () => {
  assert.equal(read("docs/config.md"), configMarkdown());
});

test("docs - docs/asyncapi.json matches the protocol schemas in code (run `npm run docs` after changing them)", () => {
  assert.equal(read("docs/asyncapi.json"), asyncApiJson());
  const doc = JSON.parse(read("docs/asyncapi.json"));
  assert.equal(doc.asyncapi, "3.0.0");
  assert.deepEqual(Object.keys(doc.components.messages).sort(), ["deadLetter", "request", "verdict"]);
});

test("docs - docs/metrics.md is the generated table of every exported metric (run `npm run docs` after changing one)", async () => {
  const doc = read("docs/metrics.md");
  assert.equal(doc, await metricsMarkdown());
  const documented = [...doc.matchAll(/^\| `([a-z0-9_:]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual([...documented].sort(), exportedMetricNames());
});

test("docs - the README starts with the two commands a new user runs", () => {
  const readme = read("README.md");
  const firstBlock = readme.split("```")[1] ?? "";
  assert.match(firstBlock, /npm start/);
  assert.match(firstBlock, /npm test/);
});
