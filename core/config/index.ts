// Public surface of core/config: the configuration schema, its defaults and the parser of a
// file's text (reading the file is api/config-file.ts).
export { ConfigError, type ConfigProblem } from "./config-error.ts";
export {
  defaultEvseConfig,
  EVSE_MANAGER_OPTIONS,
  EVSE_MANAGER_OPTION_NAMES,
  EvseConfigSchema,
  HidOptionsSchema,
  SimOptionsSchema,
  type EvseConfig,
  type EvseManagerOptionName,
  type HidConfig,
  type SimConfig,
} from "./evse-options.ts";
export { GLOBAL_OPTION_NAMES, type GlobalOptionName } from "./app-options.ts";
export { parseConfig, type AppConfig } from "./parse-config.ts";
export { AuthOptionsSchema, OcppOptionsSchema, type AuthOptions, type OcppOptions } from "./ocpp-options.ts";
export * from "./ocpp-keys.ts";
export { parseConfigText } from "./parse-config-text.ts";
export { ControlOptionsSchema, defaultControlOptions, SiteOptionsSchema, type ControlOptions, type SiteOptions } from "./site-options.ts";
export { MqttOptionsSchema, type MqttConfig } from "./mqtt-options.ts";
