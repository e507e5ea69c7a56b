export { loadConfig, redactConfig, ConfigError, type Config, type FlagValues } from "./load.ts";
export { SETTINGS, type Setting } from "./settings.ts";
