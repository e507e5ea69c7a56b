/**
 * Builds the frozen Config from defaults < env < flags, through the SETTINGS table.
 * Every problem is collected and reported at once in one ConfigError (never silently coerced).
 */
import { OfaError, ErrorCode } from "../protocol/errors.ts";
import { replyPatternProblem } from "../protocol/trust.ts";
import { SETTINGS, type Config, type Setting } from "./settings.ts";

export type { Config };


export class ConfigError extends OfaError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(ErrorCode.CONFIG, `invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.problems = problems;
    this.name = "ConfigError";
  }
}

/** Flag values as commander gives them, keyed by setting key (camelCase). */
export type FlagValues = Readonly<Record<string, string | boolean | undefined>>;

export function loadConfig(flags: FlagValues = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const fromFlag = flags[setting.key];
    const fromEnv = env[setting.env];
    const raw = fromFlag !== undefined ? fromFlag : fromEnv !== undefined && fromEnv !== "" ? fromEnv : undefined;
    const where = fromFlag !== undefined ? setting.flag : setting.env;
    const value = raw === undefined ? defaultOf(setting) : coerce(setting, raw, where, problems);
    if (value !== undefined) out[setting.key] = value;
  }
  crossCheck(out, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  // The one place the table's values become the typed Config: every key was read through SETTINGS, coerced by its type.
  return Object.freeze(out) as Config;
}

function defaultOf(setting: Setting): unknown {
  if (setting.type === "csv" && typeof setting.default === "string") return Object.freeze(setting.default.split(","));
  return setting.default;
}

function coerce(setting: Setting, raw: string | boolean, where: string, problems: string[]): unknown {
  switch (setting.type) {
    case "bool":
      if (typeof raw === "boolean") return raw;
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      problems.push(`${where}: expected true or false, got ${JSON.stringify(raw)}`);
      return undefined;
    case "int": {
      const text = String(raw).trim();
      if (!/^\d+$/.test(text)) {
        problems.push(`${where}: expected a whole number, got ${JSON.stringify(raw)}`);
        return undefined;
      }
      const n = Number(text);
      if (setting.min !== undefined && n < setting.min) problems.push(`${where}: ${n} is below the minimum ${setting.min}`);
      if (setting.max !== undefined && n > setting.max) problems.push(`${where}: ${n} is above the maximum ${setting.max}`);
      return n;
    }
    case "csv":
      return Object.freeze(String(raw).split(",").map((x) => x.trim()).filter(Boolean));
    case "string": {
      const text = String(raw);
      if (setting.choices && !setting.choices.includes(text)) {
        problems.push(`${where}: ${JSON.stringify(text)} is not one of ${setting.choices.join(", ")}`);
      }
      return text;
    }
  }
}

function crossCheck(c: Record<string, unknown>, problems: string[]): void {
  if (!/^[^\s:]+:\d{1,5}$/.test(String(c.adminAddr))) problems.push(`OFA_ADMIN_ADDR: expected host:port, got ${JSON.stringify(c.adminAddr)}`);
  const replySubjects = (c.replySubjects as string[] | undefined) ?? [];
  if (replySubjects.length === 0) problems.push("OFA_REPLY_SUBJECTS: needs at least one subject pattern");
  for (const p of replySubjects) {
    const problem = replyPatternProblem(p);
    if (problem) problems.push(`OFA_REPLY_SUBJECTS: ${problem}`);
  }
  if (c.natsInboxPrefix !== undefined && !/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/.test(String(c.natsInboxPrefix))) {
    problems.push(`OFA_NATS_INBOX_PREFIX: ${JSON.stringify(c.natsInboxPrefix)} is not a subject prefix (tokens of letters, digits, _, $ and -)`);
  }
  if (c.natsTlsCertFile !== undefined && c.natsTlsKeyFile === undefined) problems.push("OFA_NATS_TLS_CERT needs OFA_NATS_TLS_KEY");
  const auths = ["natsToken", "natsCredsFile", "natsNkeySeedFile", "natsUser"].filter((k) => c[k] !== undefined);
  if (auths.length > 1) problems.push(`choose one NATS auth method, got ${auths.join(" and ")}`);
  if (c.natsUser !== undefined && c.natsPassword === undefined) problems.push("OFA_NATS_USER needs OFA_NATS_PASSWORD");
  // DynamicQuantizeMatMul has CPU kernels only: on cuda every int8 matmul would copy to the host and back.
  if (c.precision === "int8" && c.executionProvider !== "cpu") problems.push(`OFA_PRECISION=int8 is for the cpu execution provider; use fp16 with ${String(c.executionProvider)}`);
  const schedule = redeliveryScheduleMs(Number(c.ackWaitMs), Number(c.maxDeliver));
  if (Number(c.requestMaxAgeMs) <= schedule) {
    problems.push(`OFA_REQUEST_MAX_AGE_MS: ${c.requestMaxAgeMs} ms would drop a request before its last delivery ends (OFA_ACK_WAIT_MS and OFA_MAX_DELIVER make that ${schedule} ms)`);
  }
  for (const url of (c.natsUrl as string[] | undefined) ?? []) {
    if (!/^(nats|tls|ws|wss):\/\/[^\s]+$/.test(url) && !/^[^\s/:]+:\d+$/.test(url)) problems.push(`NATS_URL: ${JSON.stringify(url)} is not a nats:// URL`);
  }
}

/** The request consumers' backoff: ack wait × 1, 2, 4 … (max deliver − 1 steps); JetStream uses step i as the lease
 *  of delivery i + 1 and the last step for every later one. */
export function redeliveryBackoffMs(ackWaitMs: number, maxDeliver: number): number[] {
  return Array.from({ length: maxDeliver - 1 }, (_, i) => ackWaitMs * 2 ** i);
}

/** How long a request may take from its first delivery to the end of its last lease (every delivery timing out). */
function redeliveryScheduleMs(ackWaitMs: number, maxDeliver: number): number {
  const backoff = redeliveryBackoffMs(ackWaitMs, maxDeliver);
  return backoff.reduce((a, b) => a + b, 0) + (backoff.at(-1) ?? ackWaitMs);
}
