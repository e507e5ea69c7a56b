/** The one pino root logger; components take children. Credentials are redacted by path, payload bytes never logged. */
import { pino, type Logger } from "pino";

export type { Logger };

export const REDACT_PATHS = [
  "config.natsPassword",
  "config.natsToken",
  "config.adminToken",
  "*.password",
  "*.pass",
  "*.token",
  "*.authorization",
  "req.headers.authorization",
];

export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings }, redact: { paths: REDACT_PATHS, censor: "[redacted]" } });
}
