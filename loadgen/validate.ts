/**
 * Turns whatever came back for one request into exactly one Outcome. Every verdict is checked against
 * the contract (id, label, scores summing to 1, model present) even though the client already checked
 * the schema: a load test is where a broken service must not pass for a healthy one.
 */
import { ErrorCode, VerdictLabel, type ErrorVerdict, type ListVerdict, type OkVerdict, type Verdict } from "@ofa-entail/client/source";
import { InvalidVerdictCode } from "./errors.ts";

/** Softmax scores are floats; 1e-3 allows float32 rounding and JSON printing of three values. */
const SCORE_SUM_TOLERANCE = 1e-3;

export type Outcome =
  | { readonly type: "ok"; readonly label: VerdictLabel; readonly cached: boolean; readonly verdict: OkVerdict }
  /** An error verdict (the service's code), a client failure, or a verdict that broke the contract. */
  | { readonly type: "error"; readonly code: string; readonly source: "verdict" | "client" | "invalid" }
  /** No verdict within --timeout (the client gave up). */
  | { readonly type: "timeout" };

const LABELS: readonly string[] = Object.values(VerdictLabel);

export function outcomeOfVerdict(verdict: Verdict, expectedId: string): Outcome {
  if (verdict.id !== expectedId) return invalid(InvalidVerdictCode.ID_MISMATCH);
  if (!verdict.ok) return { type: "error", code: verdict.error.code, source: "verdict" };
  if (!LABELS.includes(verdict.label)) return invalid(InvalidVerdictCode.LABEL);
  if (!scoresAreValid(verdict.scores)) return invalid(InvalidVerdictCode.SCORES);
  if (!verdict.model || typeof verdict.model.name !== "string" || verdict.model.name === "") {
    return invalid(InvalidVerdictCode.MODEL);
  }
  return { type: "ok", label: verdict.label, cached: verdict.cached === true, verdict };
}

/**
 * A policy list's verdict: every result is checked like a single verdict and their count must match the request's.
 * The outcome reports the list as one request, with its first result's label and the list's timings and batch.
 */
export function outcomeOfListVerdict(verdict: ListVerdict | ErrorVerdict, expectedId: string, hypotheses: number): Outcome {
  if (!verdict.ok) return outcomeOfVerdict(verdict, expectedId);
  if (!Array.isArray(verdict.results) || verdict.results.length !== hypotheses) return invalid(InvalidVerdictCode.SCORES);
  const { results, ...rest } = verdict;
  const outcomes = results.map((r) => outcomeOfVerdict({ ...rest, label: r.label, scores: r.scores }, expectedId));
  return outcomes.find((o) => o.type !== "ok") ?? outcomes[0]!;
}

export function outcomeOfError(err: unknown): Outcome {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === ErrorCode.TIMEOUT) return { type: "timeout" };
  if (typeof code === "string" && code !== "") return { type: "error", code, source: "client" };
  return invalid(InvalidVerdictCode.UNKNOWN);
}

function scoresAreValid(scores: Readonly<Record<VerdictLabel, number>>): boolean {
  const values = LABELS.map((l) => scores[l as VerdictLabel]);
  if (values.some((v) => typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > 1)) return false;
  return Math.abs(values.reduce((a, b) => a + b, 0) - 1) <= SCORE_SUM_TOLERANCE;
}

function invalid(code: InvalidVerdictCode): Outcome {
  return { type: "error", code, source: "invalid" };
}
