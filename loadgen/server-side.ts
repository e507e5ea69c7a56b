/**
 * What the service says about itself in each ok verdict: where the time went (queue, preprocessing,
 * batch wait, inference, total), the batch sizes it realised, and which model answered. Client-side
 * latency says how slow; this says why. Only measured (post-warmup) requests are recorded.
 */
import type { OkVerdict } from "@ofa-entail/client/source";
import { LatencyHistogram, type LatencySummary } from "./histogram.ts";

const STAGES = ["queueMs", "preprocessMs", "batchWaitMs", "inferenceMs", "totalMs"] as const;
type Stage = (typeof STAGES)[number];

export interface ServerSideReport {
  /** Per stage, from the verdicts' `timings` (the service's clock, not ours). */
  readonly stages: Readonly<Record<Stage, LatencySummary>>;
  /** batch size → number of requests answered in a batch of that size. */
  readonly batchSizes: Readonly<Record<string, number>>;
  /** "name@version" → ok verdicts; "(not meaningful)" marks random-weight test models. */
  readonly models: Readonly<Record<string, number>>;
}

export class ServerSide {
  private readonly stages = Object.fromEntries(STAGES.map((s) => [s, new LatencyHistogram()])) as Record<Stage, LatencyHistogram>;
  private readonly batchSizes: Record<string, number> = {};
  private readonly models: Record<string, number> = {};

  record(v: OkVerdict): void {
    // Cached answers did not run the model; their zero timings would only flatter the stages.
    if (!v.cached) {
      for (const s of STAGES) this.stages[s].recordMs(Math.max(0, v.timings[s]));
      this.batchSizes[v.batchSize] = (this.batchSizes[v.batchSize] ?? 0) + 1;
    }
    const model = `${v.model.name}@${v.model.version}${v.model.meaningful ? "" : " (not meaningful)"}`;
    this.models[model] = (this.models[model] ?? 0) + 1;
  }

  report(): ServerSideReport {
    return {
      stages: Object.fromEntries(STAGES.map((s) => [s, this.stages[s].summary()])) as Record<Stage, LatencySummary>,
      batchSizes: { ...this.batchSizes },
      models: { ...this.models },
    };
  }
}
