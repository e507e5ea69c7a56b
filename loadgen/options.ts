/**
 * The load generator's options: what a caller may give (`LoadInput`, numbers in ms and per-second units),
 * and the validated, frozen form every other module reads (`LoadOptions`). All problems are reported at
 * once in one LoadgenError (OPTIONS); nothing is silently rewritten.
 */
import { randomInt } from "node:crypto";
import { Lane } from "@ofa-entail/client/source";
import { LoadgenError, LoadgenErrorCode } from "./errors.ts";
import type { RangeMs } from "./parse.ts";

/** Where request images come from. */
export type ImageSource =
  | { readonly kind: "dir"; readonly dir: string }
  /** Synthetic JPEG/PNG/WebP, square sides spread evenly over [minSide, maxSide] (the seed used 224²–1024²). */
  | { readonly kind: "generate"; readonly count: number; readonly minSide: number; readonly maxSide: number };

/** Where hypothesis (or premise) texts come from: a file with one per line, or a list. */
export type TextSource = { readonly kind: "file"; readonly path: string } | { readonly kind: "list"; readonly texts: readonly string[] };

/** One stretch of constant load. A plain run has one phase; step mode has one per step. */
export type PhaseTarget = { readonly kind: "open"; readonly ratePerSec: number } | { readonly kind: "closed"; readonly users: number };

export interface Phase {
  readonly index: number;
  readonly name: string;
  readonly target: PhaseTarget;
  readonly durationMs: number;
}

export const Preset = { seed: "seed" } as const;
export type Preset = (typeof Preset)[keyof typeof Preset];

/** What a caller gives. Exactly one of users, ratePerSec, stepRates, stepUsers (or a preset). */
export interface LoadInput {
  preset?: Preset;
  /** Server URL, or several comma-separated. Default: env NATS_URL, else nats://127.0.0.1:4222. */
  natsUrl?: string;
  users?: number;
  /** Closed model: users started per second. Default 1 (Locust's default). */
  spawnRatePerSec?: number;
  /** Closed model: think time drawn uniformly from [minMs, maxMs] after each answer. Default 0. */
  thinkMs?: RangeMs;
  ratePerSec?: number;
  stepRates?: readonly number[];
  stepUsers?: readonly number[];
  /** Length of each step. Default 30 000 ms. */
  stepDurationMs?: number;
  /** Length of a plain run. Default 60 000 ms (the seed preset: 300 000 ms). */
  durationMs?: number;
  /** Per-request wait for a verdict. Default 30 000 ms. */
  timeoutMs?: number;
  /** Excluded from the statistics at the start of each phase. Default 0. */
  warmupMs?: number;
  /** p95 objective. Step mode: defines the knee (required). Plain run: pass/fail. */
  sloMs?: number;
  /** A step whose errors + timeouts exceed this fraction of its requests cannot be the knee. Default 0.01. */
  maxErrorRate?: number;
  /** Open model: requests allowed in flight before further ones are dropped (and counted). Default 10 000. */
  maxInFlight?: number;
  lane?: Lane;
  images?: ImageSource;
  /**
   * Make every request's image bytes unique (a trailer after the image's end; pixels unchanged) so the
   * service's verdict cache cannot answer repeats and the model is what gets measured. Default true.
   */
  uniqueImages?: boolean;
  texts?: TextSource;
  premises?: TextSource;
  /** Hypotheses per request: 1 sends `text`; more send a policy list (`hypotheses`) drawn from the texts. Default 1. */
  hypotheses?: number;
  /** Seed of the request picker, for repeatable request sequences. Default random. */
  seed?: number;
  /** Where report.json and report.html go; none written when absent. */
  outDir?: string;
  /**
   * Stop after this many requests over the whole run (a fixed backlog, like k6's shared iterations): no more are
   * sent, and a phase ends once its budget is spent (closed: when the users' last requests are answered). Default: none.
   */
  maxRequests?: number;
}

export interface LoadOptions {
  readonly preset: Preset | undefined;
  readonly natsUrl: string;
  readonly model: "open" | "closed";
  readonly stepped: boolean;
  readonly phases: readonly Phase[];
  readonly spawnRatePerSec: number;
  readonly thinkMs: RangeMs;
  readonly timeoutMs: number;
  readonly warmupMs: number;
  readonly sloMs: number | undefined;
  readonly maxErrorRate: number;
  readonly maxInFlight: number;
  readonly lane: Lane;
  readonly images: ImageSource;
  readonly uniqueImages: boolean;
  readonly texts: TextSource | undefined;
  readonly premises: TextSource | undefined;
  readonly hypotheses: number;
  readonly seed: number;
  readonly outDir: string | undefined;
  readonly maxRequests: number | undefined;
}

/** The original Locust scenario: 20 users, spawned 5/s, think 0.5–2 s, 5 minutes. */
const SEED_PRESET: Readonly<LoadInput> = Object.freeze({
  users: 20,
  spawnRatePerSec: 5,
  thinkMs: { minMs: 500, maxMs: 2000 },
  durationMs: 300_000,
});

export const DEFAULTS = Object.freeze({
  natsUrl: "nats://127.0.0.1:4222",
  durationMs: 60_000,
  stepDurationMs: 30_000,
  timeoutMs: 30_000,
  spawnRatePerSec: 1,
  maxErrorRate: 0.01,
  maxInFlight: 10_000,
  images: Object.freeze({ kind: "generate", count: 12, minSide: 224, maxSide: 1024 }) as ImageSource,
});

export function resolveOptions(raw: LoadInput, env: NodeJS.ProcessEnv = process.env): LoadOptions {
  const input: LoadInput = raw.preset === Preset.seed ? { ...SEED_PRESET, ...dropUndefined(raw) } : raw;
  const problems: string[] = [];
  const shape = loadShape(input, problems);
  checkNumbers(input, problems);
  const phases = buildPhases(input, shape, problems);
  if (problems.length > 0) {
    throw new LoadgenError(LoadgenErrorCode.OPTIONS, `invalid options:\n  - ${problems.join("\n  - ")}`, problems);
  }
  return Object.freeze({
    preset: input.preset,
    natsUrl: input.natsUrl || env.NATS_URL || DEFAULTS.natsUrl,
    model: shape === "rate" || shape === "stepRates" ? "open" : "closed",
    stepped: shape === "stepRates" || shape === "stepUsers",
    phases: Object.freeze(phases),
    spawnRatePerSec: input.spawnRatePerSec ?? DEFAULTS.spawnRatePerSec,
    thinkMs: Object.freeze({ ...(input.thinkMs ?? { minMs: 0, maxMs: 0 }) }),
    timeoutMs: input.timeoutMs ?? DEFAULTS.timeoutMs,
    warmupMs: input.warmupMs ?? 0,
    sloMs: input.sloMs,
    maxErrorRate: input.maxErrorRate ?? DEFAULTS.maxErrorRate,
    maxInFlight: input.maxInFlight ?? DEFAULTS.maxInFlight,
    lane: input.lane ?? Lane.interactive,
    images: input.images ?? DEFAULTS.images,
    uniqueImages: input.uniqueImages ?? true,
    texts: input.texts,
    premises: input.premises,
    hypotheses: input.hypotheses ?? 1,
    seed: input.seed ?? randomInt(2 ** 31),
    outDir: input.outDir,
    maxRequests: input.maxRequests,
  } satisfies LoadOptions);
}

type Shape = "users" | "rate" | "stepRates" | "stepUsers";

function loadShape(input: LoadInput, problems: string[]): Shape | undefined {
  const given: Shape[] = [];
  if (input.users !== undefined) given.push("users");
  if (input.ratePerSec !== undefined) given.push("rate");
  if (input.stepRates !== undefined) given.push("stepRates");
  if (input.stepUsers !== undefined) given.push("stepUsers");
  if (given.length === 0) problems.push("choose a load: --users N (closed), --rate R (open), --step-rates, --step-users or --preset seed");
  if (given.length > 1) problems.push(`choose one load shape, not ${given.join(" and ")}`);
  return given.length === 1 ? given[0] : undefined;
}

function checkNumbers(input: LoadInput, problems: string[]): void {
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) problems.push(`${name} must be > 0 (got ${v})`);
  };
  positive("users", input.users);
  if (input.users !== undefined && !Number.isInteger(input.users)) problems.push(`users must be a whole number (got ${input.users})`);
  positive("rate", input.ratePerSec);
  positive("spawn rate", input.spawnRatePerSec);
  positive("duration", input.durationMs);
  positive("step duration", input.stepDurationMs);
  positive("timeout", input.timeoutMs);
  positive("slo", input.sloMs);
  positive("max in flight", input.maxInFlight);
  if (input.maxRequests !== undefined && !(Number.isInteger(input.maxRequests) && input.maxRequests >= 1)) {
    problems.push(`max requests must be a whole number ≥ 1 (got ${input.maxRequests})`);
  }
  if (input.hypotheses !== undefined && !(Number.isInteger(input.hypotheses) && input.hypotheses >= 1 && input.hypotheses <= 256)) {
    problems.push(`hypotheses must be a whole number within [1, 256] (got ${input.hypotheses})`);
  }
  if (input.warmupMs !== undefined && !(input.warmupMs >= 0)) problems.push(`warmup must be ≥ 0 (got ${input.warmupMs})`);
  if (input.maxErrorRate !== undefined && !(input.maxErrorRate >= 0 && input.maxErrorRate <= 1)) {
    problems.push(`max error rate must be within [0, 1] (got ${input.maxErrorRate})`);
  }
  if (input.stepUsers?.some((u) => !Number.isInteger(u) || u <= 0)) problems.push("step users must be whole numbers > 0");
  if (input.lane !== undefined && !Object.values(Lane).includes(input.lane)) {
    problems.push(`lane must be one of ${Object.values(Lane).join(", ")} (got ${input.lane})`);
  }
  const img = input.images;
  if (img?.kind === "generate" && !(Number.isInteger(img.count) && img.count >= 1 && img.minSide >= 1 && img.maxSide >= img.minSide)) {
    problems.push("generated images need a whole count ≥ 1 and 1 ≤ minSide ≤ maxSide");
  }
  const think = input.thinkMs;
  if (think && !(think.minMs >= 0 && think.maxMs >= think.minMs)) problems.push("think time must be 0 ≤ MIN ≤ MAX");
}

function buildPhases(input: LoadInput, shape: Shape | undefined, problems: string[]): Phase[] {
  if (shape === undefined) return [];
  const stepped = shape === "stepRates" || shape === "stepUsers";
  if (stepped && input.durationMs !== undefined && input.preset === undefined) {
    problems.push("step mode takes --step-duration (per step), not --duration");
  }
  if (stepped && input.sloMs === undefined) problems.push("step mode needs --slo: the knee is the highest throughput whose p95 stays under it");
  const durationMs = stepped ? (input.stepDurationMs ?? DEFAULTS.stepDurationMs) : (input.durationMs ?? DEFAULTS.durationMs);
  if ((input.warmupMs ?? 0) >= durationMs) problems.push(`warmup (${input.warmupMs} ms) must be shorter than each phase (${durationMs} ms)`);
  const targets: PhaseTarget[] =
    shape === "users" ? [{ kind: "closed", users: input.users! }]
    : shape === "rate" ? [{ kind: "open", ratePerSec: input.ratePerSec! }]
    : shape === "stepRates" ? input.stepRates!.map((r) => ({ kind: "open" as const, ratePerSec: r }))
    : input.stepUsers!.map((u) => ({ kind: "closed" as const, users: u }));
  if (targets.length === 0) problems.push("step list is empty");
  return targets.map((target, index) => Object.freeze({ index, name: phaseName(target), target, durationMs }));
}

function phaseName(target: PhaseTarget): string {
  return target.kind === "open" ? `${target.ratePerSec}/s` : `${target.users} users`;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
