/** Secrets out of what is logged or shown: the config on /status and in the start line, URLs in error messages. */
import { SETTINGS, type Config } from "./settings.ts";

/** The URL minus any user:password@ in it (a password can ride in nats://user:pass@host); `mark` takes its place. */
export function withoutUserinfo(url: string, mark = ""): string {
  return url.replace(/\/\/[^/@]*@/, `//${mark}`);
}

/** The config with secrets replaced, for logs and /status. */
export function redactConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config, natsUrl: config.natsUrl.map((u) => withoutUserinfo(u, "[redacted]@")) };
  for (const setting of SETTINGS) if (setting.secret && out[setting.key] !== undefined) out[setting.key] = "[redacted]";
  return out;
}
