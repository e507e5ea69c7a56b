/**
 * The command line: commander definition and the translation of its string flags into a LoadInput.
 * Every malformed flag is collected and reported together (OFA_LOADGEN_ERR_OPTIONS).
 */
import { Command, Option } from "commander";
import { LANES, type Lane } from "@ofa-entail/client/source";
import { LoadgenError, LoadgenErrorCode } from "./errors.ts";
import { DEFAULTS, Preset, type LoadInput } from "./options.ts";
import { parseDurationMs, parseNumberList, parsePositive, parseRangeMs, type Parsed } from "./parse.ts";

/** Flags as commander hands them over: strings, untouched. */
export interface Flags {
  preset?: string; users?: string; spawnRate?: string; think?: string; rate?: string;
  stepRates?: string; stepUsers?: string; stepDuration?: string; slo?: string; maxErrorRate?: string;
  duration?: string; timeout?: string; warmup?: string; nats?: string; images?: string; generate?: string;
  texts?: string; premises?: string; hypotheses?: string; lane?: string; maxInFlight?: string; seed?: string; out?: string;
  repeatImages?: boolean;
}

export function createProgram(): Command {
  return new Command("ofa-entail-loadgen")
    .description("Load test ofa-entail over NATS: closed (users + think time) or open (fixed arrival rate) model, HDR percentiles, JSON + HTML report.")
    .addOption(new Option("--preset <name>", "the original Locust scenario: 20 users, spawn 5/s, think 0.5s..2s, 5 min (flags given override it)").choices(Object.values(Preset)))
    .option("--users <n>", "closed model: number of users")
    .option("--spawn-rate <r>", `closed model: users started per second (default ${DEFAULTS.spawnRatePerSec})`)
    .option("--think <min..max>", "closed model: think time after each answer, e.g. 0.5s..2s (default 0)")
    .option("--rate <r>", "open model: requests per second, latency from each request's intended send time")
    .option("--step-rates <list>", "step mode, open model: rates per step, e.g. 1,2,4,8")
    .option("--step-users <list>", "step mode, closed model: users per step, e.g. 5,10,20")
    .option("--step-duration <dur>", "step mode: length of each step (default 30s)")
    .option("--slo <dur>", "p95 objective, e.g. 420ms; step mode reports the knee against it; plain runs pass/fail")
    .option("--max-error-rate <f>", `a step above this error fraction cannot be the knee (default ${DEFAULTS.maxErrorRate})`)
    .option("--duration <dur>", "length of a plain run (default 60s; preset seed 5m)")
    .option("--timeout <dur>", "per-request wait for a verdict (default 30s)")
    .option("--warmup <dur>", "left out of the statistics at the start of each phase (default 0)")
    .option("--nats <url>", "NATS server (default $NATS_URL or nats://127.0.0.1:4222)")
    .option("--images <dir>", "send the JPEG/PNG/WebP files of this directory (default: generated 224²–1024²)")
    .option("--generate <n>", `how many images to generate when --images is not given (default ${generatedCount()})`)
    .option("--repeat-images", "send image files byte for byte, so the service's verdict cache may answer repeats (default: a unique trailer per request, pixels unchanged)")
    .option("--texts <file>", "hypothesis texts, one per line (default: built-in)")
    .option("--hypotheses <n>", "hypotheses per request: more than 1 sends a policy list drawn from the texts (default 1)")
    .option("--premises <file>", "premise texts, one per line; each request gets one at random (default: none)")
    .addOption(new Option("--lane <lane>", "request lane (default interactive)").choices([...LANES]))
    .option("--max-in-flight <n>", `open model: cap on requests in flight; slots beyond it are dropped and counted (default ${DEFAULTS.maxInFlight})`)
    .option("--seed <n>", "seed for picking images, texts and think times (default random; recorded in the report)")
    .option("--out <dir>", "report directory (default loadgen/out/<timestamp>/)")
    .showHelpAfterError("(run with --help for usage)");
}

function generatedCount(): number {
  return DEFAULTS.images.kind === "generate" ? DEFAULTS.images.count : 0;
}

/** Turns string flags into a LoadInput; throws LoadgenError(OPTIONS) listing every bad flag. */
export function inputFromFlags(flags: Flags, outDir: string): LoadInput {
  const problems: string[] = [];
  const take = <T>(flag: string, text: string | undefined, parse: (t: string) => Parsed<T>): T | undefined => {
    if (text === undefined) return undefined;
    const r = parse(text);
    if (!r.ok) problems.push(`--${flag}: ${r.problem}`);
    return r.ok ? r.value : undefined;
  };
  const count = take("generate", flags.generate, (t) => parsePositive(t));
  const input: LoadInput = {
    preset: flags.preset as Preset | undefined,
    natsUrl: flags.nats,
    users: take("users", flags.users, (t) => parsePositive(t)),
    spawnRatePerSec: take("spawn-rate", flags.spawnRate, (t) => parsePositive(t)),
    thinkMs: take("think", flags.think, parseRangeMs),
    ratePerSec: take("rate", flags.rate, (t) => parsePositive(t)),
    stepRates: take("step-rates", flags.stepRates, parseNumberList),
    stepUsers: take("step-users", flags.stepUsers, parseNumberList),
    stepDurationMs: take("step-duration", flags.stepDuration, parseDurationMs),
    sloMs: take("slo", flags.slo, parseDurationMs),
    maxErrorRate: take("max-error-rate", flags.maxErrorRate, (t) => parsePositive(t, true)),
    durationMs: take("duration", flags.duration, parseDurationMs),
    timeoutMs: take("timeout", flags.timeout, parseDurationMs),
    warmupMs: take("warmup", flags.warmup, parseDurationMs),
    maxInFlight: take("max-in-flight", flags.maxInFlight, (t) => parsePositive(t)),
    seed: take("seed", flags.seed, (t) => parsePositive(t, true)),
    hypotheses: take("hypotheses", flags.hypotheses, (t) => parsePositive(t)),
    lane: flags.lane as Lane | undefined,
    images: flags.images !== undefined
      ? { kind: "dir", dir: flags.images }
      : { kind: "generate", count: Math.round(count ?? generatedCount()), minSide: 224, maxSide: 1024 },
    uniqueImages: flags.repeatImages !== true,
    texts: flags.texts !== undefined ? { kind: "file", path: flags.texts } : undefined,
    premises: flags.premises !== undefined ? { kind: "file", path: flags.premises } : undefined,
    outDir,
  };
  if (flags.images !== undefined && flags.generate !== undefined) problems.push("--images and --generate: give one (a directory, or how many to generate)");
  if (problems.length > 0) {
    throw new LoadgenError(LoadgenErrorCode.OPTIONS, `invalid options:\n  - ${problems.join("\n  - ")}`, problems);
  }
  return input;
}
