/**
 * The `ofa-entail` CLI: parse argv → validate config once → run one command. Nothing else lives here.
 * Each subcommand imports what it runs when it runs: `--help` and `classify` never load the supervisor's
 * dependencies (fastify, prom-client, onnxruntime, sharp), so they start in a fraction of the time.
 */
import { Command, Option } from "commander";
import { loadConfig, ConfigError, SETTINGS, type FlagValues } from "./config/index.ts";
import type { ClassifyCliOptions } from "./client/cli.ts";
import { VERSION } from "./protocol/version.ts";
import { SHUTDOWN_MARGIN_MS } from "./runtime/bounds.ts";

const program = new Command("ofa-entail").description("Visual entailment (OFA) behind NATS JetStream").version(VERSION);

function withSettings(cmd: Command): Command {
  for (const s of SETTINGS) {
    if (s.type === "bool" && s.default === true) cmd.addOption(new Option(`--no-${s.flag.slice(2)}`, `disable: ${s.doc} [${s.env}]`));
    else if (s.type === "bool") cmd.addOption(new Option(s.flag, `${s.doc} [${s.env}]`));
    else cmd.addOption(new Option(`${s.flag} <value>`, `${s.doc} [${s.env}]${s.default !== undefined ? ` (default ${s.default})` : ""}`));
  }
  return cmd;
}

/** Commander's option values keyed by setting key. */
function flagValues(opts: Record<string, unknown>): FlagValues {
  const out: Record<string, string | boolean | undefined> = {};
  for (const s of SETTINGS) {
    const attr = s.flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const v = opts[attr];
    if (v !== undefined && !(s.type === "bool" && s.default === true && v === true)) out[s.key] = v as string | boolean;
  }
  return out;
}

function configOrExit(opts: Record<string, unknown>, overrides: FlagValues = {}) {
  try {
    return loadConfig({ ...flagValues(opts), ...overrides });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`ofa-entail: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

withSettings(program.command("serve").description("run the supervisor, its workers and the admin port")).action(async (opts: Record<string, unknown>) => {
  const config = configOrExit(opts);
  const [{ createLogger, exitAfterFlush }, { Supervisor }] = await Promise.all([import("./log/logger.ts"), import("./supervisor/supervisor.ts")]);
  const logger = createLogger(config.logLevel, { component: "supervisor" });
  let supervisor: Awaited<ReturnType<typeof Supervisor.start>>;
  try {
    supervisor = await Supervisor.start(config, logger);
  } catch (err) {
    logger.fatal({ err }, "could not start");
    return exitAfterFlush(logger, 1);
  }
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      supervisor.forceExit();
      return exitAfterFlush(logger, 130);
    }
    logger.info({ signal: sig }, "signal received");
    // Whatever the broker does, serve is gone within the grace + a fixed margin of this first signal.
    setTimeout(() => (supervisor.forceExit(), exitAfterFlush(logger, 1)), config.drainGraceMs + SHUTDOWN_MARGIN_MS - 1_000).unref(); // exitAfterFlush takes ≤ 1 s
    void supervisor.shutdown().then(() => exitAfterFlush(logger, 0));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  process.on("SIGHUP", () => supervisor.hangup()); // re-read OFA_MODEL_DIR, worker by worker; coalesced during a rollout
});

withSettings(program.command("provision").description("create or update the JetStream streams, consumers and buckets"))
  .option("--dry-run", "print the differences against the server and change nothing")
  .action(async (opts: Record<string, unknown>) => {
    const { runProvision } = await import("./supervisor/provision-cli.ts");
    process.exitCode = await runProvision(configOrExit(opts), opts.dryRun === true);
  });

program
  .command("classify")
  .description("send one request and print its verdict as one JSON line")
  .requiredOption("--image <file>", "image file (JPEG, PNG or WebP)")
  .option("--text <text>", "the hypothesis; repeat it for a policy list (one request, one verdict with `results`)", (v: string, all: string[]) => [...all, v], [] as string[])
  .option("--premise <text>", "optional premise text")
  .option("--timeout <ms>", "how long to wait for the verdict", "30000")
  .option("--lane <lane>", "interactive or bulk", "interactive")
  .option("--nats <url>", "NATS URL [NATS_URL]")
  .action(async (opts: ClassifyCliOptions & { nats?: string }) => {
    const config = configOrExit({}, opts.nats ? { natsUrl: opts.nats } : {});
    const { runClassify } = await import("./client/cli.ts");
    process.exitCode = await runClassify(config, opts);
  });

program
  .command("loadgen")
  .description("the load generator (same as ofa-entail-loadgen)")
  .allowUnknownOption()
  .helpOption(false)
  .argument("[args...]")
  .action(async (args: string[]) => {
    process.argv = [process.argv[0]!, "ofa-entail-loadgen", ...args];
    await import("../loadgen/main.ts");
  });

await program.parseAsync(process.argv);
