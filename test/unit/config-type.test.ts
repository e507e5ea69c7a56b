/**
 * Config is computed from the SETTINGS table (src/config/settings.ts): these assertions are checked by `tsc` (run by
 * `npm test`) and fail to compile when the mapping from a setting's type/choices/default to its field type breaks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig, SETTINGS, type Config } from "../../src/config/index.ts";

type Eq<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const typeChecks = {
  choices: true satisfies Eq<Config["executionProvider"], "cpu" | "webgpu" | "cuda">,
  int: true satisfies Eq<Config["workers"], number>,
  csv: true satisfies Eq<Config["natsUrl"], readonly string[]>,
  bool: true satisfies Eq<Config["embedded"], boolean>,
  string: true satisfies Eq<Config["dataDir"], string>,
  optional: true satisfies Eq<Config["natsUser"], string | undefined>,
  optionalIsOptional: true satisfies Eq<undefined extends Config["adminToken"] ? true : false, true>,
};

test("config type - every setting with a default is a field of the loaded Config, and nothing else is", () => {
  assert.ok(Object.values(typeChecks).every(Boolean));
  const config = loadConfig({}, {});
  const withDefault = SETTINGS.filter((s) => s.default !== undefined).map((s) => s.key);
  assert.deepEqual(Object.keys(config).sort(), [...withDefault].sort());
  const unknownKey: keyof Config = "natsUrl";
  // @ts-expect-error a key that is not in the table is not a Config field
  const notAKey: keyof Config = "nope";
  assert.ok(unknownKey && notAKey);
});
