/**
 * Whether the broker answers the JetStream API. nats-server 2.9.10 with a full disk stops answering JetStream calls
 * for good while its connections stay up (no log line; SIGTERM ignored): to callers that looks like a slow model.
 * The supervisor's consumer poll reports every call here; after THRESHOLD timeouts in a row the broker is
 * "not answering": /readyz says so, `ofa_broker_responsive` is 0, and one log line is written (and one when it
 * answers again) — never one per attempt.
 */
import type { Logger } from "../log/logger.ts";
import { isTimeout } from "../errors/classify-nats.ts";

/** Timeouts in a row before the broker counts as not answering: one is a slow call, two (≥ 10 s) are not. */
const THRESHOLD = 2;

export type BrokerState =
  | { readonly kind: "answering" }
  | { readonly kind: "silent"; readonly since: number; readonly timeouts: number };

export interface BrokerHealthDeps {
  readonly logger: Logger;
  /** Every JetStream API call that timed out. */
  readonly onTimeout: () => void;
  /** The broker went silent (false) or answers again (true). */
  readonly onResponsive: (responsive: boolean) => void;
  readonly now?: () => number;
}

export class BrokerHealth {
  private state: BrokerState = { kind: "answering" };
  private inARow = 0;
  private firstTimeoutAt = 0;
  private readonly deps: BrokerHealthDeps;

  constructor(deps: BrokerHealthDeps) {
    this.deps = deps;
    deps.onResponsive(true);
  }

  get current(): BrokerState {
    return this.state;
  }

  /** A JetStream API call was answered (with anything: an error reply is an answer). */
  answered(): void {
    this.inARow = 0;
    if (this.state.kind === "answering") return;
    const silentForMs = this.now() - this.state.since;
    this.state = { kind: "answering" };
    this.deps.onResponsive(true);
    this.deps.logger.info({ silentForMs }, "broker answers JetStream API calls again");
  }

  /** A JetStream API call failed: a timeout counts against the broker, any other failure is an answer. */
  failed(err: unknown): void {
    if (!isTimeout(err)) return this.answered();
    this.deps.onTimeout();
    if (this.inARow++ === 0) this.firstTimeoutAt = this.now();
    if (this.state.kind === "silent") {
      this.state = { ...this.state, timeouts: this.state.timeouts + 1 };
    } else if (this.inARow >= THRESHOLD) {
      this.state = { kind: "silent", since: this.firstTimeoutAt, timeouts: this.inARow };
      this.deps.onResponsive(false);
      this.deps.logger.error(
        { timeouts: this.inARow, since: new Date(this.firstTimeoutAt).toISOString() },
        "broker not answering: JetStream API calls time out (a full disk or a wedged nats-server?); requests wait until it answers",
      );
    }
  }

  /** The /readyz reason while the broker is silent. */
  reason(): string | undefined {
    if (this.state.kind === "answering") return undefined;
    return `broker not answering: ${this.state.timeouts} JetStream API calls timed out since ${new Date(this.state.since).toISOString()} (full disk or wedged nats-server?)`;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
