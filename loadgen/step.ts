/**
 * Step mode: the load rises in steps (rates or users), each step a phase of its own, and the knee is
 * the highest throughput whose p95 stays within the SLO. A step with too many errors or timeouts
 * cannot be the knee however fast its few answers were (a failing service is not a fast one).
 * Pure: the runner lives in run.ts.
 */

/** What the knee needs to know about one step. */
export interface StepPoint {
  readonly index: number;
  readonly name: string;
  /** Ok verdicts per second over the measured part of the step. */
  readonly okPerSec: number;
  readonly p95Ms: number;
  /** (errors + timeouts) / settled. */
  readonly errorRate: number;
  /** Measured requests that settled; a step with none proves nothing. */
  readonly settled: number;
}

interface StepVerdict {
  readonly index: number;
  readonly name: string;
  readonly withinSlo: boolean;
  /** Why the step failed, when it did. */
  readonly reason: string | undefined;
}

export interface Knee {
  readonly sloMs: number;
  readonly maxErrorRate: number;
  /** The chosen step, or undefined when no step met the SLO. */
  readonly index: number | undefined;
  readonly name: string | undefined;
  readonly okPerSec: number | undefined;
  readonly p95Ms: number | undefined;
  readonly steps: readonly StepVerdict[];
}

export function judgeStep(step: StepPoint, sloMs: number, maxErrorRate: number): StepVerdict {
  const reason =
    step.settled === 0 ? "no measured request settled"
    : step.p95Ms > sloMs ? `p95 ${step.p95Ms.toFixed(1)} ms > SLO ${sloMs} ms`
    : step.errorRate > maxErrorRate ? `error rate ${(step.errorRate * 100).toFixed(2)}% > ${(maxErrorRate * 100).toFixed(2)}%`
    : undefined;
  return { index: step.index, name: step.name, withinSlo: reason === undefined, reason };
}

/**
 * The knee: among the steps within the SLO, the one with the highest ok throughput. Steps need not
 * be monotone (noise can make a lower step fail and a higher one pass); the highest passing
 * throughput is what the service demonstrably sustained.
 */
export function findKnee(steps: readonly StepPoint[], sloMs: number, maxErrorRate: number): Knee {
  const verdicts = steps.map((s) => judgeStep(s, sloMs, maxErrorRate));
  let best: StepPoint | undefined;
  steps.forEach((s, i) => {
    if (verdicts[i]!.withinSlo && (best === undefined || s.okPerSec > best.okPerSec)) best = s;
  });
  return {
    sloMs,
    maxErrorRate,
    index: best?.index,
    name: best?.name,
    okPerSec: best?.okPerSec,
    p95Ms: best?.p95Ms,
    steps: verdicts,
  };
}
