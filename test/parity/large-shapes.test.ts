/**
 * Parity: the `large` config is OFA-large. The torch module the exporter builds (no export) must have
 * 472,977,152 unique parameters (docs/ofa-ve.md §8) and exactly the 1625 state-dict entries, names and
 * shapes of ModelScope's OFAModel at OFA-large size (models/export/fixtures/ofa_large_state_dict.json,
 * generated from modelscope/models/multi_modal/ofa/modeling_ofa.py; provenance inside the file), so the
 * official checkpoint loads strictly. Building the module takes ~5 s and ~2 GB of memory.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { reference } from "./reference.ts";

interface LargeReport {
  params: number;
  refParams: number;
  keys: number;
  refKeys: number;
  missing: string[];
  unexpected: string[];
  wrongShape: string[];
  seconds: number;
}

test("parity - large config has OFA-large's parameter count and state-dict names and shapes", async (t) => {
  const r = await reference<LargeReport>({ cmd: "large" }, 180_000);
  t.diagnostic(`built the large torch module in ${r.seconds.toFixed(1)} s`);
  assert.equal(r.refParams, 472_977_152, "fixture parameter count");
  assert.equal(r.params, 472_977_152);
  assert.deepEqual(r.missing, [], "entries OFA-large has and ours lacks");
  assert.deepEqual(r.unexpected, [], "entries ours has and OFA-large lacks");
  assert.deepEqual(r.wrongShape, [], "entries whose shape differs");
  assert.equal(r.keys, 1625);
});
