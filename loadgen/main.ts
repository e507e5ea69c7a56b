/**
 * CLI entry (bin/ofa-entail-loadgen.mjs imports this): parse flags, run, print the summary, exit.
 * Exit codes: 0 done; 1 the run failed or its accounting does not balance; 2 bad options;
 * 3 the SLO was missed (plain run) or no step met it (step mode). First Ctrl-C stops sending and
 * still drains and reports; a second one exits at once.
 */
import { CommanderError } from "commander";
import { createProgram, inputFromFlags, type Flags } from "./cli.ts";
import { LoadgenError, LoadgenErrorCode } from "./errors.ts";
import { createProgressPrinter } from "./progress.ts";
import { assertAccounting, runLoad } from "./run.ts";
import type { Report } from "./report.ts";
import { formatSummary } from "./summary.ts";
import { defaultOutDir, reportFiles } from "./write.ts";

export const ExitCode = { ok: 0, failed: 1, usage: 2, sloMissed: 3 } as const;

async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram().exitOverride();
  program.parse([...argv]);
  const flags = program.opts<Flags>();
  const outDir = flags.out ?? defaultOutDir();
  const input = inputFromFlags(flags, outDir);
  const stop = new AbortController();
  onInterrupt(stop);
  const printer = createProgressPrinter();
  let report: Report;
  try {
    report = await runLoad(input, { signal: stop.signal, progress: printer.sink });
  } finally {
    printer.end();
  }
  process.stdout.write(formatSummary(report, reportFiles(outDir)));
  assertAccounting(report);
  return sloMissed(report) ? ExitCode.sloMissed : ExitCode.ok;
}

function sloMissed(r: Report): boolean {
  return (r.slo !== undefined && !r.slo.pass) || (r.knee !== undefined && r.knee.index === undefined);
}

function onInterrupt(stop: AbortController): void {
  process.on("SIGINT", () => {
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write("\nstopping: draining requests in flight (Ctrl-C again to quit now)\n");
    stop.abort();
  });
}

function exitCodeOf(err: unknown): number {
  return err instanceof LoadgenError && err.code === LoadgenErrorCode.OPTIONS ? ExitCode.usage : ExitCode.failed;
}

main(process.argv).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    // commander has already printed its message (or the help); only the exit code is left to set.
    if (err instanceof CommanderError) return void (process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.usage);
    const code = err instanceof LoadgenError ? `${err.code}: ` : "";
    process.stderr.write(`ofa-entail-loadgen: ${code}${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = exitCodeOf(err);
  },
);
