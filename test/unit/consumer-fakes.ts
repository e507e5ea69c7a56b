/**
 * Small fakes for unit tests of the consumer's parts: no broker, no model. A fake JsMsg records every ack / nak /
 * term / working call; a fake clock fires timers only when the test advances it; a fake infer lets the test decide
 * when (and whether) each run ends; a fake publisher records what would have been published.
 */
import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import { Registry } from "prom-client";
import { createLogger } from "../../src/log/logger.ts";
import { createWorkerMetrics } from "../../src/metrics/definitions.ts";
import type { AnswerScores, RowGroup } from "../../src/model/index.ts";
import type { AnswerTarget, Published } from "../../src/nats/publish.ts";
import type { AnyVerdict, Lane } from "../../src/protocol/index.ts";
import type { Clock, Infer } from "../../src/consumer/batch-loop.ts";
import { jobFromMessage, type AdmittedJob } from "../../src/consumer/job.ts";
import { newWork } from "../../src/consumer/work.ts";

export const silentLogger = createLogger("silent");
export const newMetrics = () => createWorkerMetrics(new Registry());
const YES: AnswerScores = { label: "yes", scores: { yes: 0.9, no: 0.05, maybe: 0.05 } };

let seq = 0;

export interface FakeMsg {
  readonly msg: JsMsg;
  /** "ack", "nak", "nak:<delay>", "term", "working", in call order. */
  readonly calls: string[];
  /** ack / nak / term calls: how the message was settled (a correct consumer makes exactly one). */
  settlements(): string[];
  working(): number;
}

/** A request message as JetStream would deliver it; `body` is the envelope (a valid one by default). */
export function fakeMsg(body: unknown = { v: 1, image: { data: "AAAA" }, text: "a door" }, deliveries = 1): FakeMsg {
  const calls: string[] = [];
  const streamSequence = ++seq;
  const msg = {
    subject: "ofa.requests.interactive",
    data: Buffer.from(JSON.stringify(body)),
    headers: undefined,
    info: { streamSequence, deliveryCount: deliveries, timestampNanos: Date.now() * 1e6 },
    ack: () => void calls.push("ack"),
    nak: (ms?: number) => void calls.push(ms === undefined ? "nak" : `nak:${ms}`),
    term: () => void calls.push("term"),
    working: () => void calls.push("working"),
  };
  return {
    msg: msg as unknown as JsMsg,
    calls,
    settlements: () => calls.filter((c) => c !== "working"),
    working: () => calls.filter((c) => c === "working").length,
  };
}

/** A prepared job (as after admission) with `rows` rows waiting; `deadlineMs` optional. */
export function preparedJob(lane: Lane, rows = 1, nowMs = 0, deadlineMs?: number, m: FakeMsg = fakeMsg()): AdmittedJob {
  const hypotheses = rows > 1 ? Array.from({ length: rows }, (_, i) => `h${i}`) : undefined;
  const work = newWork(hypotheses, rows, [], undefined);
  for (let i = 0; i < rows; i++) {
    work.rows.push([i]);
    work.rowIndex.push(i);
  }
  return { ...jobFromMessage(m.msg, lane, nowMs, []), deadlineMs, work, preprocessMs: 0 };
}

/** A job whose every row is answered `answer`. */
export function answeredJob(m: FakeMsg, answer: AnswerScores = YES): AdmittedJob {
  const job = preparedJob("interactive", 1, 0, undefined, m);
  job.work.answers[0] = answer;
  return job;
}

/** Time stands still until advance(); timers due by then fire in order. */
export class FakeClock implements Clock {
  nowMs = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;

  now(): number {
    return this.nowMs;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.nowMs + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  advance(ms: number): void {
    const until = this.nowMs + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.nowMs = Math.max(this.nowMs, due[1].at);
      due[1].fn();
    }
    this.nowMs = until;
  }
}

/** Each call to infer is recorded and stays pending until the test ends it: answer(i) or fail(i, err). */
export class FakeInfer {
  readonly calls: { groups: readonly RowGroup[]; resolve: (r: Awaited<ReturnType<Infer>>) => void; reject: (e: unknown) => void }[] = [];
  /** When set, every call ends at once this way. */
  auto: "answer" | Error | undefined;
  readonly infer: Infer = (groups) =>
    new Promise((resolve, reject) => {
      this.calls.push({ groups, resolve, reject });
      if (this.auto === "answer") this.answer(this.calls.length - 1);
      else if (this.auto) reject(this.auto);
    });

  /** Rows of each call, per group. */
  rowsOf(i: number): number[] {
    return this.calls[i]!.groups.map((g) => g.rows.length);
  }

  answer(i: number, runMs = 10): void {
    const { groups, resolve } = this.calls[i]!;
    resolve({ answers: groups.map((g) => g.rows.map(() => YES)), embeds: groups.map(() => undefined), runMs });
  }

  fail(i: number, err: unknown): void {
    this.calls[i]!.reject(err);
  }
}

export class FakePublisher {
  readonly published: AnyVerdict[] = [];
  readonly deadLetters: { id: string; code: string }[] = [];
  /** What publish() answers; a function may throw (broker gone). */
  outcome: () => Published = () => "new";

  async publish(_job: AnswerTarget, verdict: AnyVerdict): Promise<Published> {
    const result = this.outcome();
    this.published.push(verdict);
    return result;
  }

  async deadLetter(job: AnswerTarget, code: string): Promise<void> {
    this.deadLetters.push({ id: job.id, code });
  }
}

/**
 * A lane's durable consumer: fetch() hands out what the test queued with deliver(), at most max_messages, and ends
 * (like an expired pull) after a short idle spell or when stopped.
 */
export class FakeLane {
  private readonly queue: JsMsg[] = [];
  private wake: (() => void) | undefined;
  /** max_messages of every fetch, in order. */
  readonly asked: number[] = [];

  deliver(...msgs: FakeMsg[]): void {
    this.queue.push(...msgs.map((m) => m.msg));
    this.wake?.();
  }

  get waiting(): number {
    return this.queue.length;
  }

  readonly consumer: Pick<Consumer, "fetch"> = {
    fetch: async (opts) => {
      const max = opts?.max_messages ?? 1;
      this.asked.push(max);
      let stopped = false;
      const iterate = async function* (this: FakeLane): AsyncGenerator<JsMsg> {
        for (let n = 0; n < max && !stopped; ) {
          const next = this.queue.shift();
          if (next) {
            n += 1;
            yield next;
            continue;
          }
          const idle = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(true), 20);
            this.wake = () => (clearTimeout(timer), resolve(false));
          });
          this.wake = undefined;
          if (idle) return;
        }
      }.call(this);
      const messages = Object.assign(iterate, { stop: () => ((stopped = true), this.wake?.()) });
      return messages as unknown as ConsumerMessages;
    },
  };
}
