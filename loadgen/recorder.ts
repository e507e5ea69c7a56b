/**
 * The run's single book of accounts. Every request is entered when sent and leaves exactly once when it
 * settles (ok, error or timeout); the latency of each settled request goes into the run, phase and
 * one-second timeline histograms. Latency = settle time − *intended* send time: in the open model the
 * schedule's time, so a stall the generator itself suffered is charged too (coordinated omission);
 * in the closed model intended = actual send time.
 * Requests whose intended time falls in a phase's warmup are accounted for but left out of statistics.
 */
import { emptyCounts, countOutcome, type Counts } from "./counts.ts";
import { LatencyHistogram } from "./histogram.ts";
import { ServerSide } from "./server-side.ts";
import type { Phase } from "./options.ts";
import type { Outcome } from "./validate.ts";

/** Monotonic milliseconds (performance.now in production). */
export interface Clock {
  now(): number;
}

export interface PhaseStats {
  readonly phase: Phase;
  startedAt: number | undefined;
  /** End of the warmup: requests intended from here on are measured. */
  measureFrom: number | undefined;
  /** When the phase stopped sending. */
  endedAt: number | undefined;
  /** Measured requests only. */
  readonly counts: Counts;
  readonly latency: LatencyHistogram;
  /** Open model: schedule slots skipped because --max-in-flight was reached (never sent). */
  dropped: number;
}

export interface TimelineSecond {
  /** Requests sent in this second (all, warmup included). */
  sent: number;
  /** Outcomes settled in this second, and their latencies. */
  readonly counts: Counts;
  readonly latency: LatencyHistogram;
  /** In flight when the second was last sampled. */
  inFlight: number;
}

interface Pending {
  readonly phase: number;
  readonly intendedAt: number;
  readonly measured: boolean;
}

export class Recorder {
  readonly startedAt: number;
  /** All requests of the run, warmup included: the invariant is checked on these. */
  readonly totals: Counts = emptyCounts();
  /** Measured requests of every phase together. */
  readonly latency = new LatencyHistogram();
  /** How late the generator sent each request (actual − intended): shows when the generator, not the service, lags. */
  readonly sendLag = new LatencyHistogram();
  /** The service's own account of measured ok verdicts (stage timings, batch sizes, models). */
  readonly server = new ServerSide();
  readonly phases: PhaseStats[];
  readonly timeline: TimelineSecond[] = [];
  /** Settlements of ids that were not in flight: each one is a bookkeeping bug and breaks the invariant. */
  strays = 0;
  private readonly pending = new Map<string, Pending>();
  private current = 0;

  private readonly clock: Clock;
  private readonly warmupMs: number;
  constructor(
    clock: Clock,
    phases: readonly Phase[],
    warmupMs: number,
  ) {
    this.clock = clock;
    this.warmupMs = warmupMs;
    this.startedAt = clock.now();
    this.phases = phases.map((phase) => ({
      phase,
      startedAt: undefined,
      measureFrom: undefined,
      endedAt: undefined,
      counts: emptyCounts(),
      latency: new LatencyHistogram(),
      dropped: 0,
    }));
  }

  get inFlight(): number {
    return this.pending.size;
  }

  beginPhase(index: number): number {
    const stats = this.phases[index]!;
    const now = this.clock.now();
    stats.startedAt = now;
    stats.measureFrom = now + this.warmupMs;
    this.current = index;
    return now;
  }

  endPhase(index: number): void {
    this.phases[index]!.endedAt = this.clock.now();
  }

  sent(id: string, intendedAt: number, actualAt: number): void {
    const stats = this.phases[this.current]!;
    const measured = intendedAt >= (stats.measureFrom ?? Infinity);
    this.pending.set(id, { phase: this.current, intendedAt, measured });
    this.totals.sent += 1;
    if (measured) {
      stats.counts.sent += 1;
      this.sendLag.recordMs(actualAt - intendedAt);
    }
    this.second(actualAt).sent += 1;
  }

  dropped(): void {
    this.phases[this.current]!.dropped += 1;
  }

  settled(id: string, outcome: Outcome): void {
    const entry = this.pending.get(id);
    if (!entry) {
      this.strays += 1;
      return;
    }
    this.pending.delete(id);
    const now = this.clock.now();
    const latencyMs = now - entry.intendedAt;
    countOutcome(this.totals, outcome);
    const second = this.second(now);
    countOutcome(second.counts, outcome);
    second.latency.recordMs(latencyMs);
    if (!entry.measured) return;
    const stats = this.phases[entry.phase]!;
    countOutcome(stats.counts, outcome);
    stats.latency.recordMs(latencyMs);
    this.latency.recordMs(latencyMs);
    if (outcome.type === "ok") this.server.record(outcome.verdict);
  }

  /** Marks the current second's in-flight count (called by the progress ticker and at the end). */
  sample(): void {
    this.second(this.clock.now()).inFlight = this.pending.size;
  }

  private second(at: number): TimelineSecond {
    const index = Math.max(0, Math.floor((at - this.startedAt) / 1000));
    while (this.timeline.length <= index) {
      this.timeline.push({ sent: 0, counts: emptyCounts(), latency: new LatencyHistogram(true), inFlight: this.pending.size });
    }
    return this.timeline[index]!;
  }
}
