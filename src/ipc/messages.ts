/** Typed messages between the supervisor and its worker processes (`kind` discriminates). */
import type { MetricObjectWithValues, MetricValue } from "prom-client";
import type { Config } from "../config/index.ts";
import type { ModelInfo } from "../protocol/verdict.ts";
import type { Placement } from "../model/session-protocol.ts";

export type ToWorker =
  | { kind: "init"; workerId: number; config: Config }
  | { kind: "drain"; graceMs: number }
  | { kind: "metrics-request"; id: number };

export type WorkerMetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

export type FromWorker =
  /** placement: where a GPU provider put the graph's nodes (absent on the CPU provider). */
  | { kind: "ready"; model: ModelInfo; placement?: Placement }
  | { kind: "metrics"; id: number; metrics: WorkerMetricsSnapshot; held: number }
  /** permanent: a start-up failure a restart cannot heal (e.g. the execution provider is not installed). */
  | { kind: "fatal"; message: string; permanent?: boolean }
  /** Sent every second or so from the worker's event loop: silence means it is frozen or wedged. */
  | { kind: "heartbeat" };
