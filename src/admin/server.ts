/**
 * The admin HTTP server, built from its dependencies and not listening (the caller listens; tests inject).
 * /healthz  liveness: the supervisor runs and its workers are alive (or being restarted).
 * /readyz   readiness: NATS connected, request consumers bound, a model loaded in at least one worker; 503 + reasons.
 * /metrics  Prometheus text, every worker's registry merged with the supervisor's.
 * /status   JSON: workers, pids, restarts, held requests, model, consumers.
 * /asyncapi.json  the AsyncAPI 3 document of the message interface.
 * POST /model/reload  roll the workers onto a model directory ({"modelDir": "…"}, default the configured one).
 * /metrics, /status and /model/reload need `Authorization: Bearer <token>` when a token is configured.
 */
import { timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "../log/logger.ts";

export interface Readiness {
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
}

export function buildAdmin({ source, token, logger }: AdminOptions): FastifyInstance {
  const app = Fastify({ loggerInstance: logger.child({ component: "admin" }, { level: "warn" }) as FastifyBaseLogger });
  const guard = token === undefined ? undefined : bearerGuard(token);
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
  app.post<{ Body: { modelDir?: string } | undefined }>("/model/reload", { onRequest: guard }, async (req, reply) => {
    const modelDir = req.body?.modelDir;
    if (modelDir !== undefined && (typeof modelDir !== "string" || modelDir.length === 0)) {
      return reply.code(400).send({ ok: false, reason: "modelDir must be a non-empty string" });
    }
    const result = await source.reloadModel(modelDir);
    return reply.code(result.ok ? 200 : 409).send(result);
  });
  return app;
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
