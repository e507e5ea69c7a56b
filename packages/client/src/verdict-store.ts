/**
 * One verdict per id: the verdict stream is the record. `storedVerdict` reads an id's verdict (with the sha256 of the
 * payload it answered, from its header); `waitForStoredVerdict` polls for one that is still being worked on, for a
 * caller whose publish was a duplicate (its reply goes to whoever sent the id first). `sameRequest` says whether a
 * stored verdict answers this payload: unknown hashes (verdicts written before hashes existed) count as the same.
 */
import type { MsgHdrs } from "@nats-io/transport-node";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Header } from "./headers.ts";
import { STREAMS, verdictSubject } from "./subjects.ts";
import { decodeAnyVerdict, type AnyVerdict } from "./verdict.ts";

export interface StoredVerdict {
  readonly verdict: AnyVerdict;
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
  readonly requestHash: string | undefined;
}

export async function storedVerdict(jsm: JetStreamManager, id: string): Promise<StoredVerdict | undefined> {
  const stored = await jsm.streams.getMessage(STREAMS.verdicts, { last_by_subj: verdictSubject(id) }).catch((err: Error) => {
    if (/no message found|not found/i.test(err.message)) return null;
    throw err;
  });
  if (!stored) return undefined;
  return { verdict: decodeAnyVerdict(stored.data), data: stored.data, headers: stored.header, requestHash: stored.header?.get(Header.RequestHash) || undefined };
}

export function sameRequest(stored: StoredVerdict, requestHash: string | undefined): boolean {
  return stored.requestHash === undefined || requestHash === undefined || stored.requestHash === requestHash;
}

const POLL_FIRST_MS = 50;
const POLL_MAX_MS = 1_000;

/** Polls until the id has a verdict or untilMs passes (undefined then). Transient lookup failures are retried. */
export async function waitForStoredVerdict(jsm: JetStreamManager, id: string, untilMs: number, stop: () => boolean = () => false): Promise<StoredVerdict | undefined> {
  for (let delay = POLL_FIRST_MS; ; delay = Math.min(POLL_MAX_MS, delay * 2)) {
    const found = await storedVerdict(jsm, id).catch(() => undefined);
    if (found) return found;
    if (stop() || Date.now() + delay >= untilMs) return undefined;
    await new Promise((r) => setTimeout(r, delay));
  }
}
