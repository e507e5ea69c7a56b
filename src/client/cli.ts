/**
 * `ofa-entail classify`: one request, the verdict as one JSON line; exit 0 ok, 1 error verdict, 3 timeout or no broker,
 * 4 overloaded (stream or store full: try later). A repeated --text makes the request a policy list (`hypotheses`):
 * still one request and one verdict.
 */
import { readFile } from "node:fs/promises";
import type { Config } from "../config/index.ts";
import { connectNats } from "../nats/connect.ts";
import { ErrorCode, Lane, LANES } from "../protocol/index.ts";
import { ClassifyError, OfaClient } from "@ofa-entail/client/source";

export interface ClassifyCliOptions {
  image: string;
  /** One hypothesis, or several (repeated --text: a policy list). */
  text: string | readonly string[];
  premise?: string;
  timeout: string;
  lane: string;
}

export const EXIT = { ok: 0, errorVerdict: 1, usage: 2, unavailable: 3, overloaded: 4 } as const;

export async function runClassify(config: Config, opts: ClassifyCliOptions): Promise<number> {
  const timeoutMs = Number(opts.timeout);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) return usage(`--timeout must be a positive number of ms, got ${opts.timeout}`);
  if (!LANES.includes(opts.lane as Lane)) return usage(`--lane must be one of ${LANES.join(", ")}`);
  const texts = typeof opts.text === "string" ? [opts.text] : opts.text;
  if (texts.length === 0) return usage("--text is required (repeat it for a policy list)");
  let image: Buffer;
  try {
    image = await readFile(opts.image);
  } catch (err) {
    return usage(`cannot read --image: ${(err as Error).message}`);
  }
  let nc;
  try {
    nc = await connectNats(config, "ofa-entail-cli");
  } catch (err) {
    process.stderr.write(`ofa-entail: ${(err as Error).message}\n`);
    return EXIT.unavailable;
  }
  const client = new OfaClient(nc);
  try {
    const common = { image, premise: opts.premise, timeoutMs, lane: opts.lane as Lane };
    const verdict = texts.length === 1 ? await client.send({ ...common, text: texts[0]! }) : await client.sendMany({ ...common, hypotheses: texts });
    process.stdout.write(`${JSON.stringify(verdict)}\n`);
    if (verdict.ok) return EXIT.ok;
    process.stderr.write(`ofa-entail: ${verdict.error.code}: ${verdict.error.message}\n`);
    return verdict.error.code === ErrorCode.OVERLOADED ? EXIT.overloaded : EXIT.errorVerdict;
  } catch (err) {
    const code = err instanceof ClassifyError ? err.code : ErrorCode.INTERNAL;
    process.stdout.write(`${JSON.stringify({ ok: false, error: { code, message: (err as Error).message } })}\n`);
    process.stderr.write(`ofa-entail: ${code}: ${(err as Error).message}\n`);
    return code === ErrorCode.TIMEOUT ? EXIT.unavailable : code === ErrorCode.OVERLOADED ? EXIT.overloaded : EXIT.errorVerdict;
  } finally {
    client.close();
    await nc.close();
  }
}

function usage(message: string): number {
  process.stderr.write(`ofa-entail: ${message}\n`);
  return EXIT.usage;
}
