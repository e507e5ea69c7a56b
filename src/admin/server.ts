/**
 * The admin HTTP server, built from its dependencies and not listening (the caller listens; tests inject).
 * /healthz  liveness: the supervisor runs and its workers are alive (or being restarted).
 * /readyz   readiness: NATS connected, request consumers bound, a model loaded in at least one worker; 503 + reasons.
 * /metrics  Prometheus text, every worker's registry merged with the supervisor's.
 * /status   JSON: workers, pids, restarts, held requests, model, consumers.
 * /asyncapi.json  the AsyncAPI 3 document of the message interface.
 * POST /model/reload  roll the workers onto a model directory ({"modelDir": "…"}, default the configured one).
 * /metrics, /status and /model/reload need `Authorization: Bearer <token>` when a token is configured; without a
 * token, /model/reload (which loads whatever path it is given) is served on a loopback admin port only.
 * Idle and slow connections are timed out, so a flood of idle sockets cannot hold the port.
 */
import { timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "../log/logger.ts";

interface Readiness {
  readonly ready: boolean;
  readonly reasons: readonly string[];
}

export interface AdminSource {
  health(): { alive: boolean; reasons: readonly string[] };
  readiness(): Readiness;
  metrics(): Promise<{ contentType: string; body: string }>;
  status(): Promise<Record<string, unknown>>;
  asyncApi(): Record<string, unknown>;
  reloadModel(modelDir?: string): Promise<{ ok: boolean; reason?: string; model?: unknown }>;
}

export interface AdminOptions {
  readonly source: AdminSource;
  readonly token: string | undefined;
  readonly logger: Logger;
  /** Whether the admin port is bound to loopback only (then /model/reload is served without a token). */
  readonly loopback: boolean;
  readonly timeouts?: Partial<AdminTimeouts>;
}

export interface AdminTimeouts {
  /** A socket with no traffic for this long is closed (idle, or a client that stalls mid-request). */
  readonly connectionTimeoutMs: number;
  /** A keep-alive socket is closed this long after its last response. */
  readonly keepAliveTimeoutMs: number;
  /** A request must have arrived whole within this long. */
  readonly requestTimeoutMs: number;
}

export const ADMIN_TIMEOUTS: AdminTimeouts = Object.freeze({ connectionTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000, requestTimeoutMs: 10_000 });

export function buildAdmin({ source, token, logger, loopback, timeouts }: AdminOptions): FastifyInstance {
  const t = { ...ADMIN_TIMEOUTS, ...timeouts };
  const app = Fastify({
    loggerInstance: logger.child({ component: "admin" }, { level: "warn" }) as FastifyBaseLogger,
    connectionTimeout: t.connectionTimeoutMs,
    keepAliveTimeout: t.keepAliveTimeoutMs,
    requestTimeout: t.requestTimeoutMs,
  });
  const guard = token === undefined ? undefined : bearerGuard(token);
  const reloadGuard = guard ?? (loopback ? undefined : refuseWithoutToken);
  app.get("/healthz", async (_req, reply) => {
    const h = source.health();
    return reply.code(h.alive ? 200 : 503).send({ status: h.alive ? "ok" : "unhealthy", reasons: h.reasons });
  });
  app.get("/readyz", async (_req, reply) => {
    const r = source.readiness();
    return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? "ready" : "not ready", reasons: r.reasons });
  });
  app.get("/metrics", { onRequest: guard }, async (_req, reply) => {
    const m = await source.metrics();
    return reply.type(m.contentType).send(m.body);
  });
  app.get("/status", { onRequest: guard }, async () => source.status());
  app.get("/asyncapi.json", async () => source.asyncApi());
  app.post<{ Body: { modelDir?: string } | undefined }>("/model/reload", { onRequest: reloadGuard }, async (req, reply) => {
    const modelDir = req.body?.modelDir;
    if (modelDir !== undefined && (typeof modelDir !== "string" || modelDir.length === 0)) {
      return reply.code(400).send({ ok: false, reason: "modelDir must be a non-empty string" });
    }
    const result = await source.reloadModel(modelDir);
    return reply.code(result.ok ? 200 : 409).send(result);
  });
  return app;
}

async function refuseWithoutToken(_req: FastifyRequest, reply: FastifyReply): Promise<void> {
  await reply.code(403).send({ ok: false, reason: "POST /model/reload needs OFA_ADMIN_TOKEN when the admin port is not loopback" });
}

function bearerGuard(token: string) {
  const expected = Buffer.from(`Bearer ${token}`);
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const given = Buffer.from(req.headers.authorization ?? "");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      await reply.code(401).header("www-authenticate", "Bearer").send({ error: "unauthorized" });
    }
  };
}
