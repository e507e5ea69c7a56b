/**
 * Live progress: one self-rewriting line on a TTY (rate, in flight, p95 so far, errors), JSON lines
 * otherwise (CI logs, pipes) at a quieter pace. Written to stderr so stdout carries only the summary.
 */
import type { Recorder } from "./recorder.ts";

export interface ProgressSnapshot {
  readonly elapsedMs: number;
  readonly phase: string;
  readonly sent: number;
  readonly ok: number;
  readonly errored: number;
  readonly timedOut: number;
  readonly inFlight: number;
  /** Answers (ok + error verdicts) settled in the last complete second. */
  readonly answeredPerSec: number;
  /** p95 of the measured requests so far (0 during a warmup). */
  readonly p95Ms: number;
}

/** Called every second while the run sends and drains, and once more with `final` when it is over. */
export type ProgressSink = (snapshot: ProgressSnapshot, final?: boolean) => void;

export function takeSnapshot(recorder: Recorder, nowMs: number, phase: string): ProgressSnapshot {
  const t = recorder.totals;
  const second = Math.floor((nowMs - recorder.startedAt) / 1000);
  const last = recorder.timeline[second - 1];
  return {
    elapsedMs: nowMs - recorder.startedAt,
    phase,
    sent: t.sent,
    ok: t.ok,
    errored: t.errored,
    timedOut: t.timedOut,
    inFlight: recorder.inFlight,
    answeredPerSec: last ? last.counts.ok + last.counts.errored : 0,
    p95Ms: recorder.latency.atPercentileMs(95),
  };
}

/** JSON lines are written every `jsonEverySec` ticks and at the end; the TTY line on every tick. */
export function createProgressPrinter(stream: NodeJS.WriteStream = process.stderr, jsonEverySec = 5): { sink: ProgressSink; end(): void } {
  if (stream.isTTY) {
    return {
      sink: (s) => stream.write(`\r\x1b[2K${formatLine(s)}`),
      end: () => stream.write("\n"),
    };
  }
  let ticks = 0;
  return {
    sink: (s, final = false) => {
      if (final || ticks++ % jsonEverySec === 0) stream.write(`${JSON.stringify({ progress: s, final })}\n`);
    },
    end: () => {},
  };
}

function formatLine(s: ProgressSnapshot): string {
  const seconds = (s.elapsedMs / 1000).toFixed(0).padStart(4);
  return (
    `${seconds}s ${s.phase.padEnd(10)} ${String(s.answeredPerSec).padStart(5)} answers/s  in flight ${String(s.inFlight).padStart(5)}` +
    `  p95 ${s.p95Ms.toFixed(1).padStart(7)} ms  sent ${s.sent}  ok ${s.ok}  errors ${s.errored}  timeouts ${s.timedOut}`
  );
}
