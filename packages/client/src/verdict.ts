/**
 * The v1 verdict: one JSON message per request, `ok: true` with a label and scores (or `results` for a policy list),
 * or `ok: false` with an error. Types and a hand-written check, so the client needs no schema library: the service
 * keeps the TypeBox schemas its docs are generated from (src/protocol/verdict.ts), asserts at compile time that they
 * describe exactly these types, and test/unit/verdict-decode.test.ts runs both checks over the same samples.
 */
import type { AnyErrorCode } from "./errors.ts";

export const VerdictLabel = { yes: "yes", no: "no", maybe: "maybe" } as const;
export type VerdictLabel = (typeof VerdictLabel)[keyof typeof VerdictLabel];

export interface ModelInfo {
  name: string;
  version: string;
  /** false for random-weight test/benchmark models: the label carries no meaning. */
  meaningful: boolean;
}

/** Softmax over the three answers; sums to 1. */
export interface Scores {
  yes: number;
  no: number;
  maybe: number;
}

export interface Timings {
  queueMs: number;
  preprocessMs: number;
  batchWaitMs: number;
  inferenceMs: number;
  totalMs: number;
}

/** What every answered verdict carries, whether it answers one hypothesis or a list. */
interface AnsweredVerdict {
  v: 1;
  id: string;
  ok: true;
  model: ModelInfo;
  timings: Timings;
  batchSize: number;
  deliveries: number;
  worker: string;
  cached?: boolean;
}

export interface OkVerdict extends AnsweredVerdict {
  label: VerdictLabel;
  scores: Scores;
}

/** The verdict of a policy list (`hypotheses` in the request): one result per hypothesis, in the request's order. */
export interface ListVerdict extends AnsweredVerdict {
  results: { text: string; label: VerdictLabel; scores: Scores }[];
}

/** Where in a request the fault is: `index` names the hypothesis of a list (0-based). */
export interface ErrorDetails {
  index?: number;
}

export interface ErrorVerdict {
  v: 1;
  id: string;
  ok: false;
  error: { code: AnyErrorCode; message: string; retryable: boolean; details?: ErrorDetails };
  model?: ModelInfo;
  deliveries?: number;
  worker?: string;
}

/** The verdict of a single-`text` request. */
export type Verdict = OkVerdict | ErrorVerdict;
/** Any verdict on the wire: a single request's, or a policy list's. */
export type AnyVerdict = Verdict | ListVerdict;

/**
 * Decodes and validates a single request's verdict; throws a plain Error naming the problem (a protocol bug, not a
 * caller error). A policy list's verdict is refused here: readers that may meet lists use decodeAnyVerdict.
 */
export function decodeVerdictPayload(payload: Uint8Array): Verdict {
  const value = decodeAnyVerdict(payload);
  if (value.ok && answerProblem(value as unknown as Obj, "")) throw new Error("malformed verdict: a policy list's verdict where a single one was expected");
  return value as Verdict;
}

/** Decodes and validates any verdict: a single request's or a policy list's. */
export function decodeAnyVerdict(payload: Uint8Array): AnyVerdict {
  const value: unknown = JSON.parse(new TextDecoder().decode(payload));
  const problem = verdictProblem(value);
  if (problem) throw new Error(`malformed verdict: ${problem}`);
  return value as AnyVerdict;
}

/** Why a value is not a v1 verdict (a path and what is wrong there), or undefined when it is one. */
export function verdictProblem(value: unknown): string | undefined {
  if (!isObject(value)) return "/ is not an object";
  if (value.v !== 1) return "/v must be 1";
  if (typeof value.id !== "string") return "/id must be a string";
  if (value.ok === false) return errorProblem(value);
  if (value.ok !== true) return "/ok must be a boolean";
  const common =
    modelProblem(value.model, "/model") ??
    numbersProblem(value.timings, "/timings", ["queueMs", "preprocessMs", "batchWaitMs", "inferenceMs", "totalMs"]) ??
    integerProblem(value.batchSize, "/batchSize") ??
    integerProblem(value.deliveries, "/deliveries") ??
    (typeof value.worker === "string" ? undefined : "/worker must be a string") ??
    (value.cached === undefined || typeof value.cached === "boolean" ? undefined : "/cached must be a boolean");
  if (common) return common;
  // Either shape will do, as in the schema's union (extra properties are allowed): a single answer, or a list.
  const single = answerProblem(value, "");
  return single === undefined || value.results === undefined ? single : resultsProblem(value.results);
}

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function answerProblem(value: Obj, at: string): string | undefined {
  if (value.label !== "yes" && value.label !== "no" && value.label !== "maybe") return `${at}/label must be yes, no or maybe`;
  return numbersProblem(value.scores, `${at}/scores`, ["yes", "no", "maybe"]);
}

function resultsProblem(results: unknown): string | undefined {
  if (!Array.isArray(results) || results.length === 0) return "/results must be a non-empty array";
  for (const [i, r] of results.entries()) {
    if (!isObject(r)) return `/results/${i} must be an object`;
    if (typeof r.text !== "string") return `/results/${i}/text must be a string`;
    const problem = answerProblem(r, `/results/${i}`);
    if (problem) return problem;
  }
  return undefined;
}

function errorProblem(value: Obj): string | undefined {
  const e = value.error;
  if (!isObject(e)) return "/error must be an object";
  if (typeof e.code !== "string") return "/error/code must be a string";
  if (typeof e.message !== "string") return "/error/message must be a string";
  if (typeof e.retryable !== "boolean") return "/error/retryable must be a boolean";
  if (e.details !== undefined) {
    if (!isObject(e.details)) return "/error/details must be an object";
    if (e.details.index !== undefined) {
      const problem = integerProblem(e.details.index, "/error/details/index", 0);
      if (problem) return problem;
    }
  }
  if (value.model !== undefined) {
    const problem = modelProblem(value.model, "/model");
    if (problem) return problem;
  }
  if (value.deliveries !== undefined) {
    const problem = integerProblem(value.deliveries, "/deliveries");
    if (problem) return problem;
  }
  return value.worker === undefined || typeof value.worker === "string" ? undefined : "/worker must be a string";
}

function modelProblem(model: unknown, at: string): string | undefined {
  if (!isObject(model)) return `${at} must be an object`;
  if (typeof model.name !== "string" || typeof model.version !== "string") return `${at}/name and ${at}/version must be strings`;
  return typeof model.meaningful === "boolean" ? undefined : `${at}/meaningful must be a boolean`;
}

function numbersProblem(value: unknown, at: string, keys: readonly string[]): string | undefined {
  if (!isObject(value)) return `${at} must be an object`;
  const bad = keys.find((k) => typeof value[k] !== "number" || !Number.isFinite(value[k]));
  return bad === undefined ? undefined : `${at}/${bad} must be a number`;
}

function integerProblem(value: unknown, at: string, minimum = 1): string | undefined {
  return Number.isInteger(value) && (value as number) >= minimum ? undefined : `${at} must be an integer ≥ ${minimum}`;
}
