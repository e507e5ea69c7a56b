/**
 * Answer logits → verdict label and scores. The reference (ModelScope ofa_for_all_tasks.py traverse inference,
 * docs/ofa-ve.md §5) reduces to a softmax over the three answer-token logits at the last decoder position.
 */
import type { VerdictLabel } from "../protocol/verdict.ts";
import type { Answer } from "./manifest.ts";

export interface AnswerScores {
  readonly label: VerdictLabel;
  readonly scores: { yes: number; no: number; maybe: number };
}

/** `logits` holds one row: answer_logits columns in manifest `answers` order. */
export function answerScores(logits: ArrayLike<number>, answers: readonly Answer[]): AnswerScores {
  let max = -Infinity;
  for (let i = 0; i < answers.length; i++) max = Math.max(max, logits[i]!);
  const exps = answers.map((_, i) => Math.exp(logits[i]! - max)); // shift by the max: no overflow
  const total = exps.reduce((a, b) => a + b, 0);
  const scores = { yes: 0, no: 0, maybe: 0 };
  let best = 0;
  answers.forEach((answer, i) => {
    scores[answer.label] = exps[i]! / total;
    if (exps[i]! > exps[best]!) best = i;
  });
  return { label: answers[best]!.label, scores };
}
