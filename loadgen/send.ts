/**
 * One request, start to finish: pick the work item, enter it in the books, send it through the SDK,
 * and settle it with exactly one outcome whatever happens. Shared by the open and closed models.
 */
import type { ClassifyManyOptions, ClassifyOptions } from "@ofa-entail/client/source";
import type { ErrorVerdict, Lane, ListVerdict, Verdict } from "@ofa-entail/client/source";
import { withUniqueTrailer } from "./images.ts";
import type { Clock, Recorder } from "./recorder.ts";
import { outcomeOfError, outcomeOfListVerdict, outcomeOfVerdict, type Outcome } from "./validate.ts";
import type { Workload } from "./workload.ts";

/** The part of OfaClient the generator uses (a narrow seam: the tests drive the real client through it). */
export interface Sender {
  send(req: ClassifyOptions): Promise<Verdict>;
  /** Policy lists (--hypotheses N > 1). */
  sendMany?(req: ClassifyManyOptions): Promise<ListVerdict | ErrorVerdict>;
}

export interface SendContext {
  readonly sender: Sender;
  readonly workload: Workload;
  readonly recorder: Recorder;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly lane: Lane;
  /** Append a per-request trailer to each image so the service's verdict cache cannot answer. */
  readonly uniqueImages: boolean;
  /** Ids double as JetStream de-duplication ids (Nats-Msg-Id), so they must never repeat. */
  readonly nextId: () => string;
  /** Told of every settled request, after the books (RunDeps.onSettled). */
  readonly onSettled: ((outcome: Outcome) => void) | undefined;
}

/** Request ids `lg-<run>-<n>`: the run part keeps two runs within the stream's duplicate window apart. */
export function idSequence(runId: string): () => string {
  let n = 0;
  return () => `lg-${runId}-${(n += 1)}`;
}

/** Resolves once the request has settled; never rejects (every failure is an outcome). */
export async function sendOne(ctx: SendContext, intendedAt: number): Promise<Outcome> {
  const item = ctx.workload.next();
  const id = ctx.nextId();
  ctx.recorder.sent(id, intendedAt, ctx.clock.now());
  let outcome: Outcome;
  try {
    const common = {
      id,
      image: ctx.uniqueImages ? withUniqueTrailer(item.image.bytes, id) : item.image.bytes,
      ...(item.premise === undefined ? {} : { premise: item.premise }),
      timeoutMs: ctx.timeoutMs,
      lane: ctx.lane,
    };
    if (item.hypotheses && ctx.sender.sendMany) {
      outcome = outcomeOfListVerdict(await ctx.sender.sendMany({ ...common, hypotheses: item.hypotheses }), id, item.hypotheses.length);
    } else {
      outcome = outcomeOfVerdict(await ctx.sender.send({ ...common, text: item.text }), id);
    }
  } catch (err) {
    outcome = outcomeOfError(err);
  }
  ctx.recorder.settled(id, outcome);
  ctx.onSettled?.(outcome);
  return outcome;
}
