/**
 * Policy lists: one image asked about many hypotheses in one request (`hypotheses: string[]` instead of `text`).
 * Pure checks over a schema-valid envelope; a fault in one hypothesis names it (`details.index`, 0-based).
 */
import { ErrorCode, VerdictError } from "./errors.ts";

/** OFA_MAX_HYPOTHESES' default: the longest list one request may carry. */
export const DEFAULT_MAX_HYPOTHESES = 16;

/** The questions of a request: one `text`, or a list. Exactly one of the two fields must be present. */
export function requestQuestions(
  body: { readonly text?: string; readonly hypotheses?: readonly string[] },
  maxTextChars: number,
  maxHypotheses: number,
): { readonly texts: readonly string[]; readonly list: boolean } {
  if (body.text !== undefined && body.hypotheses !== undefined) {
    throw new VerdictError(ErrorCode.PAYLOAD_SCHEMA, "request has both `text` and `hypotheses`; send one of them");
  }
  if (body.hypotheses === undefined) {
    if (body.text === undefined) throw new VerdictError(ErrorCode.PAYLOAD_SCHEMA, "request has neither `text` nor `hypotheses`");
    return { texts: [checkText("text", body.text, maxTextChars)], list: false };
  }
  const list = body.hypotheses;
  if (list.length === 0) throw new VerdictError(ErrorCode.PAYLOAD_SCHEMA, "`hypotheses` is empty; send at least one");
  if (list.length > maxHypotheses) {
    throw new VerdictError(ErrorCode.TOO_MANY_HYPOTHESES, `\`hypotheses\` has ${list.length} entries; the limit is ${maxHypotheses}`);
  }
  return { texts: list.map((h, index) => checkText(`hypotheses[${index}]`, h, maxTextChars, index)), list: true };
}

/** A text field: not blank, within the character limit. `index` marks a hypothesis of a list. */
export function checkText(field: string, value: string, maxChars: number, index?: number): string {
  const details = index === undefined ? undefined : { index };
  if (value.trim().length === 0) throw new VerdictError(ErrorCode.TEXT_EMPTY, `${field} is empty`, { details });
  if (value.length > maxChars) {
    throw new VerdictError(ErrorCode.TEXT_TOO_LONG, `${field} has ${value.length} characters; the limit is ${maxChars}`, { details });
  }
  return value;
}
