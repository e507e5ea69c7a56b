/** `ofa-entail provision [--dry-run]`: apply (or only show) the JetStream definitions; one JSON line per change. */
import type { Config } from "../config/index.ts";
import { connectNats } from "../nats/connect.ts";
import { planProvision, provision } from "./provision.ts";

export async function runProvision(config: Config, dryRun: boolean): Promise<number> {
  let nc;
  try {
    nc = await connectNats(config, "ofa-entail-provision");
  } catch (err) {
    process.stderr.write(`ofa-entail: ${(err as Error).message}\n`);
    return 3;
  }
  try {
    const changes = dryRun ? await planProvision(nc, config) : await provision(nc, config);
    for (const change of changes) process.stdout.write(`${JSON.stringify({ dryRun, ...change })}\n`);
    return 0;
  } finally {
    await nc.close();
  }
}
