/**
 * `node bench/policy-main.ts [MODEL_DIR] [ROUNDS]`: only the policy-list section of the benchmark
 * (bench/policy.ts), for a quick number without the full 15-minute run. Default model: the split OFA-large shape.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POLICY_ROUNDS, policyGoals, policyMarkdown, policyModelDir, policyUnavailable, runPolicy } from "./policy.ts";

const dir = process.argv[2] ?? policyModelDir();
const missing = policyUnavailable(dir);
if (missing) {
  process.stderr.write(`${missing}\n`);
  process.exit(2);
}
const logDir = await mkdtemp(join(tmpdir(), "ofa-bench-policy-"));
const result = await runPolicy(dir, Number(process.argv[3] ?? POLICY_ROUNDS), logDir, (line) => process.stdout.write(`${line}\n`));
process.stdout.write(`\n${policyMarkdown(result)}\n${JSON.stringify(policyGoals(result))}\n`);
await rm(logDir, { recursive: true, force: true });
