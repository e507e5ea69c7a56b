/** Typed messages between the supervisor and its worker processes (`kind` discriminates). */
import type { MetricObjectWithValues, MetricValue } from "prom-client";
import type { Config } from "../config/index.ts";
import type { ModelInfo } from "../protocol/verdict.ts";
import type { Placement } from "../model/session-protocol.ts";

/**
 * How long a worker's pull request stays open at the broker (its fetch expiry). The supervisor waits this out before
 * handing back a dead worker's requests: offered sooner, a request goes to the dead worker's still-open pull, which
 * nats-server 2.9 takes back without counting the delivery (measured: the redelivery then says delivery 1 again, so a
 * request that kills every worker it reaches would never run out of deliveries).
 */
export const WORKER_PULL_EXPIRES_MS = 2_000;

export type ToWorker =
  | { kind: "init"; workerId: number; config: Config }
  | { kind: "drain"; graceMs: number }
  | { kind: "metrics-request"; id: number };

export type WorkerMetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

export type FromWorker =
  /** placement: where a GPU provider put the graph's nodes (absent on the CPU provider). */
  | { kind: "ready"; model: ModelInfo; placement?: Placement }
  | { kind: "metrics"; id: number; metrics: WorkerMetricsSnapshot; held: number }
  /** The drain ended and what was left was handed back by the worker itself; `metrics`: its final counts. */
  | { kind: "drained"; leftover: number; metrics?: WorkerMetricsSnapshot }
  /** permanent: a start-up failure a restart cannot heal (e.g. the execution provider is not installed). */
  | { kind: "fatal"; message: string; permanent?: boolean }
  /** Sent every second or so from the worker's event loop: silence means it is frozen or wedged. */
  | { kind: "heartbeat" }
  /**
   * Every request the worker holds, as the ack subjects (`$JS.ACK.…`) of their deliveries; sent in the tick the set
   * changes. Should the worker die, the supervisor naks each one, so JetStream redelivers at once, not an ack wait later.
   */
  | { kind: "holding"; acks: string[] };
