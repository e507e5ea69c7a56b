/**
 * The results file's top-level `goals`: one entry per goal of the issues, so a reader (or a script) sees at once
 * what was met. Any section adds its own with `goal(...)`; main.ts collects them. Ids are stable strings
 * (`large.ratio.batch1`, `preprocess.total_ms.1024x768`, `cli.help_s`, …).
 */
export interface Goal {
  readonly id: string;
  readonly value: number;
  readonly goal: number;
  readonly better: "higher" | "lower";
  readonly met: boolean;
}

export function goal(id: string, value: number, target: number, better: "higher" | "lower"): Goal {
  const met = Number.isFinite(value) && (better === "higher" ? value >= target : value <= target);
  return { id, value, goal: target, better, met };
}

/** Collects goals from the sections; a later entry with the same id replaces the earlier one. */
export class GoalBoard {
  private readonly byId = new Map<string, Goal>();

  add(...goals: readonly (Goal | undefined)[]): void {
    for (const g of goals) if (g) this.byId.set(g.id, g);
  }

  list(): Goal[] {
    return [...this.byId.values()];
  }
}

/** Markdown lines for the report. */
export function renderGoals(goals: readonly Goal[]): string {
  if (goals.length === 0) return "";
  const rows = goals.map((g) => `| \`${g.id}\` | ${fmt(g.value)} | ${g.better === "higher" ? "≥" : "≤"} ${fmt(g.goal)} | ${g.met ? "met" : "**missed**"} |`);
  return ["## Goals", "", "| goal | value | target | |", "|---|---|---|---|", ...rows, ""].join("\n");
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3);
}

/** The goals the existing sections' derived rows answer (issue 13: large ratios, bus cost). */
export function goalsFromRows(throughput: readonly { model: string; maxBatch: number; ratio: number }[], overhead: readonly { what: string; cpuMsPerVerdict: number }[]): Goal[] {
  const out: Goal[] = [];
  for (const batch of [1, 2]) {
    const row = throughput.find((r) => r.model === "OFA-large shape" && r.maxBatch === batch);
    if (row) out.push(goal(`large.ratio.batch${batch}`, row.ratio, 0.97, "higher"));
  }
  const bus = overhead.find((r) => r.what.startsWith("bus + protocol") && r.what.includes("log info"));
  if (bus) out.push(goal("bus.cpu_ms_per_verdict", bus.cpuMsPerVerdict, 0.2, "lower"));
  return out;
}
