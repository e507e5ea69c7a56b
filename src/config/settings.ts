/**
 * Every setting of ofa-entail, in one table: its env var, its CLI flag, its type, default and meaning.
 * `load.ts` reads env and flags through this table only; docs/config.md is checked against it by a test.
 * Units are in the names (…Ms, …Bytes, …Pixels).
 */
type SettingType = "string" | "int" | "bool" | "csv";

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

/** The table itself, with its literal types kept (`as const`): Config below is computed from it. */
const TABLE = [
  { key: "natsUrl", env: "NATS_URL", flag: "--nats", type: "csv", default: "nats://127.0.0.1:4222", doc: "NATS server URL(s), comma-separated" },
  { key: "natsUser", env: "OFA_NATS_USER", flag: "--nats-user", type: "string", default: undefined, doc: "NATS user (user/password auth)" },
  { key: "natsPassword", env: "OFA_NATS_PASSWORD", flag: "--nats-password", type: "string", default: undefined, secret: true, doc: "NATS password" },
  { key: "natsToken", env: "OFA_NATS_TOKEN", flag: "--nats-token", type: "string", default: undefined, secret: true, doc: "NATS token auth" },
  { key: "natsCredsFile", env: "OFA_NATS_CREDS", flag: "--nats-creds", type: "string", default: undefined, doc: "path to a NATS .creds file (JWT + nkey seed)" },
  { key: "natsNkeySeedFile", env: "OFA_NATS_NKEY_SEED_FILE", flag: "--nats-nkey-seed-file", type: "string", default: undefined, doc: "path to a file holding an nkey seed (SU…)" },
  { key: "natsInboxPrefix", env: "OFA_NATS_INBOX_PREFIX", flag: "--nats-inbox-prefix", type: "string", default: undefined, doc: "prefix of this connection's inboxes (where replies and verdicts arrive), e.g. _INBOX.<user>; give each caller its own, matching its NATS user's subscribe permission, and keep it private (infra/nats/auth/user-password.conf)" },
  { key: "natsTlsCaFile", env: "OFA_NATS_TLS_CA", flag: "--nats-tls-ca", type: "string", default: undefined, doc: "CA certificate (PEM) to verify the NATS server; enables TLS" },
  { key: "natsTlsCertFile", env: "OFA_NATS_TLS_CERT", flag: "--nats-tls-cert", type: "string", default: undefined, doc: "client certificate (PEM) for mutual TLS" },
  { key: "natsTlsKeyFile", env: "OFA_NATS_TLS_KEY", flag: "--nats-tls-key", type: "string", default: undefined, doc: "client key (PEM) for mutual TLS" },
  { key: "embedded", env: "OFA_EMBEDDED", flag: "--embedded", type: "bool", default: false, doc: "start a local nats-server (JetStream, store under dataDir) when nothing answers at NATS_URL" },
  { key: "dataDir", env: "OFA_DATA_DIR", flag: "--data-dir", type: "string", default: ".data", doc: "where the embedded nats-server keeps its store and config" },
  { key: "modelDir", env: "OFA_MODEL_DIR", flag: "--model-dir", type: "string", default: "models/tiny", doc: "model directory (manifest.json, ONNX, tokenizer.json); relative paths resolve from the working directory, then the package" },
  { key: "executionProvider", env: "OFA_EXECUTION_PROVIDER", flag: "--execution-provider", type: "string", default: "cpu", choices: ["cpu", "webgpu", "cuda"], doc: "onnxruntime execution provider: webgpu runs on any GPU with a Vulkan driver, built into onnxruntime-node (README: GPU); cuda needs the CUDA build of onnxruntime-node" },
  { key: "precision", env: "OFA_PRECISION", flag: "--precision", type: "string", default: "fp32", choices: ["fp32", "fp16", "int8"], doc: "which ONNX variant of the model directory to load: fp16 is for GPUs, int8 (dynamic int8 matmuls) for CPUs without one (README: Model)" },
  { key: "resize", env: "OFA_RESIZE", flag: "--resize", type: "string", default: "pillow", choices: ["pillow", "sharp"], doc: "image resizer: pillow = bit-exact with the reference pipeline (Pillow bicubic, in the preprocessing threads); sharp = libvips cubic, faster, slightly different pixels" },
  { key: "workers", env: "OFA_WORKERS", flag: "--workers", type: "int", default: 0, min: 0, max: 64, doc: "worker processes; 0 = auto (cores / intra-op threads, at least 1; 1 per GPU with cuda)" },
  { key: "intraOpThreads", env: "OFA_INTRA_OP_THREADS", flag: "--intra-op-threads", type: "int", default: 0, min: 0, max: 256, doc: "onnxruntime threads per worker; 0 = auto (all cores with one worker)" },
  { key: "maxBatch", env: "OFA_MAX_BATCH", flag: "--max-batch", type: "int", default: 0, min: 0, max: 256, doc: "largest batch given to one session.run; 0 = auto from the model and execution provider (OFA-large-sized on CPU 2, smaller models on CPU 8, webgpu and cuda 16; the start log says which)" },
  { key: "preprocessThreads", env: "OFA_PREPROCESS_THREADS", flag: "--preprocess-threads", type: "int", default: 0, min: 0, max: 64, doc: "resize + normalise threads per worker (OFA_RESIZE=pillow); 0 = auto (cpu: a quarter of the cores per worker, at least 1; cuda: the cores left per worker, up to 16)" },
  { key: "maxBatchDelayMs", env: "OFA_MAX_BATCH_DELAY_MS", flag: "--max-batch-delay-ms", type: "int", default: 5, min: 0, max: 10_000, doc: "how long a partial batch may wait for more requests while the model is idle" },
  { key: "ackWaitMs", env: "OFA_ACK_WAIT_MS", flag: "--ack-wait-ms", type: "int", default: 30_000, min: 500, max: 3_600_000, doc: "JetStream ack wait: a held request not acked nor heartbeated for this long is redelivered" },
  { key: "maxDeliver", env: "OFA_MAX_DELIVER", flag: "--max-deliver", type: "int", default: 5, min: 2, max: 100, doc: "deliveries before a request goes to the dead letters with OFA_ERR_MAX_DELIVERIES" },
  { key: "maxAckPending", env: "OFA_MAX_ACK_PENDING", flag: "--max-ack-pending", type: "int", default: 256, min: 1, max: 100_000, doc: "requests held un-acked by the whole fleet, per lane" },
  { key: "replicas", env: "OFA_REPLICAS", flag: "--replicas", type: "int", default: 1, min: 1, max: 5, doc: "stream replicas when provisioning (3 on a 3-node cluster)" },
  { key: "provision", env: "OFA_PROVISION", flag: "--provision", type: "bool", default: true, doc: "create or update streams and consumers at start (idempotent)" },
  { key: "maxQueuedRequests", env: "OFA_MAX_QUEUED_REQUESTS", flag: "--max-queued-requests", type: "int", default: 100_000, min: 1, doc: "requests the stream holds at most; publishers get OFA_ERR_OVERLOADED beyond it (nothing queued is dropped)" },
  { key: "requestMaxAgeMs", env: "OFA_REQUEST_MAX_AGE_MS", flag: "--request-max-age-ms", type: "int", default: 86_400_000, min: 60_000, doc: "the request stream's age limit: a request still waiting this long is dropped by the broker (no caller waits a day); must outlast the whole redelivery schedule (ack wait × 2^(max deliver − 1) …)" },
  { key: "maxPayloadBytes", env: "OFA_MAX_PAYLOAD_BYTES", flag: "--max-payload-bytes", type: "int", default: 8 * 1024 * 1024, min: 1024, doc: "largest request message accepted (the server's max_payload bounds it too)" },
  { key: "maxImageBytes", env: "OFA_MAX_IMAGE_BYTES", flag: "--max-image-bytes", type: "int", default: 32 * 1024 * 1024, min: 1024, doc: "largest image read from the object store" },
  { key: "maxImagePixels", env: "OFA_MAX_IMAGE_PIXELS", flag: "--max-image-pixels", type: "int", default: 40_000_000, min: 1, doc: "largest width×height decoded; bigger images get OFA_ERR_IMAGE_TOO_LARGE before decoding" },
  { key: "maxTextChars", env: "OFA_MAX_TEXT_CHARS", flag: "--max-text-chars", type: "int", default: 2000, min: 1, doc: "longest hypothesis or premise, in characters (longer prompts are also truncated to the model's token limit)" },
  { key: "maxHypotheses", env: "OFA_MAX_HYPOTHESES", flag: "--max-hypotheses", type: "int", default: 16, min: 1, max: 256, doc: "longest policy list (`hypotheses`) one request may carry; longer lists get OFA_ERR_TOO_MANY_HYPOTHESES" },
  { key: "adminAddr", env: "OFA_ADMIN_ADDR", flag: "--admin-addr", type: "string", default: "127.0.0.1:9464", doc: "host:port of the admin HTTP server (health, readiness, metrics, status); port 0 picks one" },
  { key: "adminToken", env: "OFA_ADMIN_TOKEN", flag: "--admin-token", type: "string", default: undefined, secret: true, doc: "bearer token required for /metrics, /status and POST /model/reload when set; POST /model/reload is refused without one unless the admin port is loopback" },
  { key: "replySubjects", env: "OFA_REPLY_SUBJECTS", flag: "--reply-subjects", type: "csv", default: "_INBOX.>", doc: "subject patterns a request's Ofa-Reply-To may match (comma-separated, NATS wildcards); anything else gets OFA_ERR_REPLY_SUBJECT and no reply. $… and ofa.… patterns are refused" },
  { key: "drainGraceMs", env: "OFA_DRAIN_GRACE_MS", flag: "--drain-grace-ms", type: "int", default: 30_000, min: 0, doc: "on SIGTERM, how long workers may finish held requests before they are killed, counted from the signal; serve exits within this + 5 s whatever the broker does. Also how long a worker whose supervisor died takes to drain and exit" },
  { key: "workerSilenceMs", env: "OFA_WORKER_SILENCE_MS", flag: "--worker-silence-ms", type: "int", default: 10_000, min: 500, max: 600_000, doc: "a worker that has not heartbeated its supervisor for this long is reported unresponsive (/readyz, /status, ofa_workers_unresponsive); after 3 times this long it is killed and restarted" },
  { key: "workerReadyTimeoutMs", env: "OFA_WORKER_READY_TIMEOUT_MS", flag: "--worker-ready-timeout-ms", type: "int", default: 600_000, min: 1_000, max: 3_600_000, doc: "a worker (started, restarted or rolled out) must load its model and pass the smoke inference within this, or it is killed: restarted, or the rollout refused (OFA-large on a CPU takes about 15 s)" },
  { key: "restartBackoffMs", env: "OFA_RESTART_BACKOFF_MS", flag: "--restart-backoff-ms", type: "int", default: 500, min: 0, doc: "first delay before restarting a crashed worker; doubles per crash up to 30 s" },
  { key: "cacheTtlMs", env: "OFA_CACHE_TTL_MS", flag: "--cache-ttl-ms", type: "int", default: 3_600_000, min: 0, doc: "verdict cache (NATS KV) lifetime; 0 disables the cache" },
  { key: "logLevel", env: "OFA_LOG_LEVEL", flag: "--log-level", type: "string", default: "info", choices: ["fatal", "error", "warn", "info", "debug", "trace", "silent"], doc: "pino log level" },
] as const satisfies readonly Setting[];

/** Every setting, for code that walks the table (loading, docs, the CLI's flags). */
export const SETTINGS: readonly Setting[] = TABLE;

type Entry = (typeof TABLE)[number];
/** A setting's value type, from its `type` and, for strings, its `choices`. */
type ValueOf<S extends Entry> = S extends { readonly type: "int" }
  ? number
  : S extends { readonly type: "bool" }
    ? boolean
    : S extends { readonly type: "csv" }
      ? readonly string[]
      : S extends { readonly choices: readonly (infer C)[] }
        ? C
        : string;
type Required_<S extends Entry> = S extends { readonly default: undefined } ? never : S;

/**
 * The validated configuration, one readonly field per setting: a setting with a default is always present, one
 * without is optional. Adding a row to the table adds its field here; nothing else lists the settings.
 */
export type Config = { readonly [S in Required_<Entry> as S["key"]]: ValueOf<S> } & {
  readonly [S in Exclude<Entry, Required_<Entry>> as S["key"]]?: ValueOf<S>;
};
