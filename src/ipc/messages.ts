/** Typed messages between the supervisor and its worker processes (`kind` discriminates). */
import type { MetricObjectWithValues, MetricValue } from "prom-client";
import type { Config } from "../config/index.ts";
import type { ModelInfo } from "../protocol/verdict.ts";

export type ToWorker =
  | { kind: "init"; workerId: number; config: Config }
  | { kind: "drain"; graceMs: number }
  | { kind: "metrics-request"; id: number };

export type WorkerMetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

export type FromWorker =
  | { kind: "ready"; model: ModelInfo }
  | { kind: "metrics"; id: number; metrics: WorkerMetricsSnapshot; held: number; state: string }
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
