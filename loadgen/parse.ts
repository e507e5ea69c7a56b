/**
 * Parsing of the CLI's human values: durations ("500ms", "0.5s", "5m", "1m30s"), ranges ("0.5s..2s")
 * and comma lists ("1,2,4,8"). Pure; each parser returns a value or a string describing the problem,
 * so the options layer can report every bad flag at once.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)/gy;

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** A bare number means seconds (the unit people type most for load tests); otherwise number+unit parts. */
export function parseDurationMs(text: string): Parsed<number> {
  const s = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(s)) return { ok: true, value: Number(s) * 1000 };
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = DURATION_PART.exec(s); m !== null; m = DURATION_PART.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    consumed = DURATION_PART.lastIndex;
  }
  if (consumed === 0 || consumed !== s.length) {
    return { ok: false, problem: `"${text}" is not a duration (examples: 500ms, 0.5s, 5m, 1m30s)` };
  }
  return { ok: true, value: total };
}

export interface RangeMs {
  readonly minMs: number;
  readonly maxMs: number;
}

/** "MIN..MAX" (each a duration) or one duration for a constant value. */
export function parseRangeMs(text: string): Parsed<RangeMs> {
  const parts = text.split("..");
  if (parts.length > 2) return { ok: false, problem: `"${text}" is not a range (example: 0.5s..2s)` };
  const min = parseDurationMs(parts[0]!);
  const max = parts.length === 2 ? parseDurationMs(parts[1]!) : min;
  if (!min.ok) return min;
  if (!max.ok) return max;
  if (max.value < min.value) return { ok: false, problem: `range "${text}" has its maximum below its minimum` };
  return { ok: true, value: { minMs: min.value, maxMs: max.value } };
}

/** "1,2,4,8": positive finite numbers, at least one. */
export function parseNumberList(text: string): Parsed<number[]> {
  const items = text.split(",").map((x) => x.trim());
  const values = items.map(Number);
  if (items.some((x) => x === "") || values.some((v) => !Number.isFinite(v) || v <= 0)) {
    return { ok: false, problem: `"${text}" is not a list of positive numbers (example: 1,2,4,8)` };
  }
  return { ok: true, value: values };
}

/** A finite number > 0 (or ≥ 0 when `allowZero`). */
export function parsePositive(text: string, allowZero = false): Parsed<number> {
  const v = Number(text.trim());
  if (text.trim() === "" || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    return { ok: false, problem: `"${text}" is not a ${allowZero ? "non-negative" : "positive"} number` };
  }
  return { ok: true, value: v };
}

/** Formats milliseconds for humans: "850 ms", "1.25 s", "5 min". */
export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Number((ms / 1000).toFixed(2))} s`;
  return `${Number((ms / 60_000).toFixed(1))} min`;
}
