/**
 * Every metric ofa-entail exports, in base units with the `ofa_` prefix. Workers and the supervisor each create the
 * ones they own in their own registry; the admin port merges the registries (prom-client AggregatorRegistry), so each
 * metric declares how it aggregates across processes.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Seconds: from 1 ms (tiny model) to 2 min (OFA-large batches on a busy CPU). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 120];
const BATCH_BUCKETS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128];

export function createWorkerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    verdicts: new Counter({ name: "ofa_verdicts_total", help: "verdicts published, by outcome (ok or error) and error code", labelNames: ["outcome", "code"] as const, registers, aggregator: "sum" }),
    queueWait: new Histogram({ name: "ofa_queue_wait_seconds", help: "from publish into the stream to a worker receiving the request", buckets: LATENCY_BUCKETS, registers, aggregator: "sum" }),
    preprocess: new Histogram({ name: "ofa_preprocess_seconds", help: "image decode + resize + normalise and prompt tokenisation, per request", buckets: LATENCY_BUCKETS, registers, aggregator: "sum" }),
    batchWait: new Histogram({ name: "ofa_batch_wait_seconds", help: "from a request being ready to its batch starting", buckets: LATENCY_BUCKETS, registers, aggregator: "sum" }),
    inference: new Histogram({ name: "ofa_inference_seconds", help: "onnxruntime session.run, per batch", buckets: LATENCY_BUCKETS, registers, aggregator: "sum" }),
    total: new Histogram({ name: "ofa_request_duration_seconds", help: "from publish into the stream to the verdict being published", buckets: LATENCY_BUCKETS, registers, aggregator: "sum" }),
    batchSize: new Histogram({ name: "ofa_batch_size", help: "requests per session.run", buckets: BATCH_BUCKETS, registers, aggregator: "sum" }),
    preprocessQueue: new Gauge({ name: "ofa_preprocess_queue", help: "requests held by workers that are being preprocessed or wait for the resize thread (the preprocessing backlog)", registers, aggregator: "sum" }),
    batchQueue: new Gauge({ name: "ofa_batch_queue", help: "preprocessed requests waiting for a batch to start", registers, aggregator: "sum" }),
    inFlight: new Gauge({ name: "ofa_in_flight", help: "requests held by workers (preprocessing, waiting for a batch, in inference, publishing)", registers, aggregator: "sum" }),
    redeliveries: new Counter({ name: "ofa_redeliveries_total", help: "requests received on a second or later delivery", registers, aggregator: "sum" }),
    deadLetters: new Counter({ name: "ofa_dead_letters_total", help: "requests written to the dead-letter stream, by code", labelNames: ["code"] as const, registers, aggregator: "sum" }),
    deadLetterFailures: new Counter({ name: "ofa_dead_letter_publish_failures_total", help: "failed attempts to write a dead letter, by code (each is retried; the log says what failed)", labelNames: ["code"] as const, registers, aggregator: "sum" }),
    naks: new Counter({ name: "ofa_naks_total", help: "requests handed back for a later retry after a transient failure", registers, aggregator: "sum" }),
    cacheHits: new Counter({ name: "ofa_cache_hits_total", help: "requests answered from the verdict cache", registers, aggregator: "sum" }),
    cacheMisses: new Counter({ name: "ofa_cache_misses_total", help: "cache look-ups that found nothing", registers, aggregator: "sum" }),
    natsConnected: new Gauge({ name: "ofa_nats_connected", help: "1 while the process is connected to NATS", registers, aggregator: "min" }),
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

export function createSupervisorMetrics(registry: Registry) {
  const registers = [registry];
  return {
    restarts: new Counter({ name: "ofa_worker_restarts_total", help: "worker processes restarted after they exited unexpectedly", registers, aggregator: "sum" }),
    workersReady: new Gauge({ name: "ofa_workers_ready", help: "worker processes with a model loaded and consuming", registers, aggregator: "sum" }),
    workersFailed: new Gauge({ name: "ofa_workers_failed", help: "worker processes stopped by a start-up failure a restart cannot heal (see /readyz); not restarted", registers, aggregator: "sum" }),
    workersDesired: new Gauge({ name: "ofa_workers_desired", help: "worker processes the supervisor keeps running", registers, aggregator: "sum" }),
    pending: new Gauge({ name: "ofa_consumer_pending", help: "requests in the stream not yet delivered, per lane", labelNames: ["lane"] as const, registers, aggregator: "max" }),
    ackPending: new Gauge({ name: "ofa_consumer_ack_pending", help: "requests delivered and not yet acked, per lane", labelNames: ["lane"] as const, registers, aggregator: "max" }),
    modelInfo: new Gauge({ name: "ofa_model_info", help: "the model being served (value 1)", labelNames: ["name", "version"] as const, registers, aggregator: "max" }),
    deadLetters: new Counter({ name: "ofa_dead_letters_total", help: "requests written to the dead-letter stream, by code", labelNames: ["code"] as const, registers, aggregator: "sum" }),
    deadLetterFailures: new Counter({ name: "ofa_dead_letter_publish_failures_total", help: "failed attempts to write a dead letter, by code (each is retried; the log says what failed)", labelNames: ["code"] as const, registers, aggregator: "sum" }),
    natsConnected: new Gauge({ name: "ofa_nats_connected", help: "1 while the process is connected to NATS", registers, aggregator: "min" }),
    workersUnresponsive: new Gauge({ name: "ofa_workers_unresponsive", help: "worker processes silent for longer than OFA_WORKER_SILENCE_MS (no heartbeat)", registers, aggregator: "sum" }),
    brokerResponsive: new Gauge({ name: "ofa_broker_responsive", help: "1 while the broker answers JetStream API calls; 0 after they time out twice in a row (a full disk or a wedged nats-server)", registers, aggregator: "min" }),
    jetstreamApiTimeouts: new Counter({ name: "ofa_jetstream_api_timeouts_total", help: "JetStream API calls of the supervisor's consumer poll that got no answer in time", registers, aggregator: "sum" }),
    staleRequestsRemoved: new Counter({ name: "ofa_stale_requests_removed_total", help: "answered requests found in the request stream below every consumer's ack floor (left by a broker crash) and removed", registers, aggregator: "sum" }),
  };
}
export type SupervisorMetrics = ReturnType<typeof createSupervisorMetrics>;

/** Default process metrics (CPU, RSS, event-loop lag…) with our prefix; summed over processes. */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, prefix: "ofa_" });
}

/** Every metric family name the service exports (histograms also expose _bucket, _sum and _count). */
export function exportedMetricNames(): string[] {
  const worker = new Registry();
  const supervisor = new Registry();
  createWorkerMetrics(worker);
  createSupervisorMetrics(supervisor);
  collectProcessMetrics(worker);
  const names = [...worker.getMetricsAsArray(), ...supervisor.getMetricsAsArray()].map((m) => (m as unknown as { name: string }).name);
  return [...new Set(names)].sort();
}
