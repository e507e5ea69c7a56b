/**
 * Every setting of ofa-entail, in one table: its env var, its CLI flag, its type, default and meaning.
 * `load.ts` reads env and flags through this table only; docs/config.md is checked against it by a test.
 * Units are in the names (…Ms, …Bytes, …Pixels).
 */
export type SettingType = "string" | "int" | "bool" | "csv";

export interface Setting {
  readonly key: string;
  readonly env: string;
  readonly flag: string;
  readonly type: SettingType;
  /** undefined = no default (optional setting). */
  readonly default: string | number | boolean | undefined;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
  /** Secret values are never logged nor shown on /status. */
  readonly secret?: boolean;
  readonly doc: string;
}

const s = (x: Setting): Setting => x;

export const SETTINGS = [
  s({ key: "natsUrl", env: "NATS_URL", flag: "--nats", type: "csv", default: "nats://127.0.0.1:4222", doc: "NATS server URL(s), comma-separated" }),
  s({ key: "natsUser", env: "OFA_NATS_USER", flag: "--nats-user", type: "string", default: undefined, doc: "NATS user (user/password auth)" }),
  s({ key: "natsPassword", env: "OFA_NATS_PASSWORD", flag: "--nats-password", type: "string", default: undefined, secret: true, doc: "NATS password" }),
  s({ key: "natsToken", env: "OFA_NATS_TOKEN", flag: "--nats-token", type: "string", default: undefined, secret: true, doc: "NATS token auth" }),
  s({ key: "natsCredsFile", env: "OFA_NATS_CREDS", flag: "--nats-creds", type: "string", default: undefined, doc: "path to a NATS .creds file (JWT + nkey seed)" }),
  s({ key: "natsNkeySeedFile", env: "OFA_NATS_NKEY_SEED_FILE", flag: "--nats-nkey-seed-file", type: "string", default: undefined, doc: "path to a file holding an nkey seed (SU…)" }),
  s({ key: "natsTlsCaFile", env: "OFA_NATS_TLS_CA", flag: "--nats-tls-ca", type: "string", default: undefined, doc: "CA certificate (PEM) to verify the NATS server; enables TLS" }),
  s({ key: "natsTlsCertFile", env: "OFA_NATS_TLS_CERT", flag: "--nats-tls-cert", type: "string", default: undefined, doc: "client certificate (PEM) for mutual TLS" }),
  s({ key: "natsTlsKeyFile", env: "OFA_NATS_TLS_KEY", flag: "--nats-tls-key", type: "string", default: undefined, doc: "client key (PEM) for mutual TLS" }),
  s({ key: "embedded", env: "OFA_EMBEDDED", flag: "--embedded", type: "bool", default: false, doc: "start a local nats-server (JetStream, store under dataDir) when nothing answers at NATS_URL" }),
  s({ key: "dataDir", env: "OFA_DATA_DIR", flag: "--data-dir", type: "string", default: ".data", doc: "where the embedded nats-server keeps its store and config" }),
  s({ key: "modelDir", env: "OFA_MODEL_DIR", flag: "--model-dir", type: "string", default: "models/tiny", doc: "model directory (manifest.json, ONNX, tokenizer.json); relative paths resolve from the working directory, then the package" }),
  s({ key: "executionProvider", env: "OFA_EXECUTION_PROVIDER", flag: "--execution-provider", type: "string", default: "cpu", choices: ["cpu", "cuda"], doc: "onnxruntime execution provider; cuda needs the CUDA build of onnxruntime-node (README: GPU)" }),
  s({ key: "precision", env: "OFA_PRECISION", flag: "--precision", type: "string", default: "fp32", choices: ["fp32", "fp16", "int8"], doc: "which ONNX variant of the model directory to load: fp16 is for GPUs, int8 (dynamic int8 matmuls) for CPUs without one (README: Model)" }),
  s({ key: "resize", env: "OFA_RESIZE", flag: "--resize", type: "string", default: "pillow", choices: ["pillow", "sharp"], doc: "image resizer: pillow = bit-exact with the reference pipeline (Pillow bicubic, in a thread); sharp = libvips cubic, faster, slightly different pixels" }),
  s({ key: "workers", env: "OFA_WORKERS", flag: "--workers", type: "int", default: 0, min: 0, max: 64, doc: "worker processes; 0 = auto (cores / intra-op threads, at least 1; 1 per GPU with cuda)" }),
  s({ key: "intraOpThreads", env: "OFA_INTRA_OP_THREADS", flag: "--intra-op-threads", type: "int", default: 0, min: 0, max: 256, doc: "onnxruntime threads per worker; 0 = auto (all cores with one worker)" }),
  s({ key: "maxBatch", env: "OFA_MAX_BATCH", flag: "--max-batch", type: "int", default: 8, min: 1, max: 256, doc: "largest batch given to one session.run" }),
  s({ key: "maxBatchDelayMs", env: "OFA_MAX_BATCH_DELAY_MS", flag: "--max-batch-delay-ms", type: "int", default: 5, min: 0, max: 10_000, doc: "how long a partial batch may wait for more requests while the model is idle" }),
  s({ key: "ackWaitMs", env: "OFA_ACK_WAIT_MS", flag: "--ack-wait-ms", type: "int", default: 30_000, min: 500, max: 3_600_000, doc: "JetStream ack wait: a held request not acked nor heartbeated for this long is redelivered" }),
  s({ key: "maxDeliver", env: "OFA_MAX_DELIVER", flag: "--max-deliver", type: "int", default: 5, min: 2, max: 100, doc: "deliveries before a request goes to the dead letters with OFA_ERR_MAX_DELIVERIES" }),
  s({ key: "maxAckPending", env: "OFA_MAX_ACK_PENDING", flag: "--max-ack-pending", type: "int", default: 256, min: 1, max: 100_000, doc: "requests held un-acked by the whole fleet, per lane" }),
  s({ key: "replicas", env: "OFA_REPLICAS", flag: "--replicas", type: "int", default: 1, min: 1, max: 5, doc: "stream replicas when provisioning (3 on a 3-node cluster)" }),
  s({ key: "provision", env: "OFA_PROVISION", flag: "--provision", type: "bool", default: true, doc: "create or update streams and consumers at start (idempotent)" }),
  s({ key: "maxQueuedRequests", env: "OFA_MAX_QUEUED_REQUESTS", flag: "--max-queued-requests", type: "int", default: 100_000, min: 1, doc: "requests the stream holds at most; publishers get OFA_ERR_OVERLOADED beyond it (nothing queued is dropped)" }),
  s({ key: "maxPayloadBytes", env: "OFA_MAX_PAYLOAD_BYTES", flag: "--max-payload-bytes", type: "int", default: 8 * 1024 * 1024, min: 1024, doc: "largest request message accepted (the server's max_payload bounds it too)" }),
  s({ key: "maxImageBytes", env: "OFA_MAX_IMAGE_BYTES", flag: "--max-image-bytes", type: "int", default: 32 * 1024 * 1024, min: 1024, doc: "largest image read from the object store" }),
  s({ key: "maxImagePixels", env: "OFA_MAX_IMAGE_PIXELS", flag: "--max-image-pixels", type: "int", default: 40_000_000, min: 1, doc: "largest width×height decoded; bigger images get OFA_ERR_IMAGE_TOO_LARGE before decoding" }),
  s({ key: "maxTextChars", env: "OFA_MAX_TEXT_CHARS", flag: "--max-text-chars", type: "int", default: 2000, min: 1, doc: "longest hypothesis or premise, in characters (longer prompts are also truncated to the model's token limit)" }),
  s({ key: "adminAddr", env: "OFA_ADMIN_ADDR", flag: "--admin-addr", type: "string", default: "127.0.0.1:9464", doc: "host:port of the admin HTTP server (health, readiness, metrics, status); port 0 picks one" }),
  s({ key: "adminToken", env: "OFA_ADMIN_TOKEN", flag: "--admin-token", type: "string", default: undefined, secret: true, doc: "bearer token required for /metrics and /status when set" }),
  s({ key: "drainGraceMs", env: "OFA_DRAIN_GRACE_MS", flag: "--drain-grace-ms", type: "int", default: 30_000, min: 0, doc: "on SIGTERM, how long workers may finish held requests before they are killed" }),
  s({ key: "restartBackoffMs", env: "OFA_RESTART_BACKOFF_MS", flag: "--restart-backoff-ms", type: "int", default: 500, min: 0, doc: "first delay before restarting a crashed worker; doubles per crash up to 30 s" }),
  s({ key: "cacheTtlMs", env: "OFA_CACHE_TTL_MS", flag: "--cache-ttl-ms", type: "int", default: 3_600_000, min: 0, doc: "verdict cache (NATS KV) lifetime; 0 disables the cache" }),
  s({ key: "logLevel", env: "OFA_LOG_LEVEL", flag: "--log-level", type: "string", default: "info", choices: ["fatal", "error", "warn", "info", "debug", "trace", "silent"], doc: "pino log level" }),
] as const satisfies readonly Setting[];
