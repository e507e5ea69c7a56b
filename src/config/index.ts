export { loadConfig, ConfigError, redeliveryBackoffMs,  type Config, type FlagValues } from "./load.ts";
export { redactConfig, withoutUserinfo } from "./redact.ts";
export { SETTINGS, type Setting } from "./settings.ts";
