// Validates a configuration document (already parsed from YAML/JSON) into AppConfig.
// Layout (http-api.md): without `evses:` the per-EVSE options are top-level keys; with `evses:`
// each list item holds them and only the global options stay at the top level.
import * as v from "valibot";
import { issueMessage, issuePath } from "../types/schema-helpers.ts";
import { GLOBAL_ENTRIES } from "./app-options.ts";
import { ConfigError, type ConfigProblem } from "./config-error.ts";
import { expandDottedKeys } from "./dotted-keys.ts";
import type { MqttConfig } from "./mqtt-options.ts";
import { EVSE_ENTRIES, EvseConfigSchema, type EvseConfig } from "./evse-options.ts";
import type { AuthOptions, OcppOptions } from "./ocpp-options.ts";
import type { ControlOptions, SiteOptions } from "./site-options.ts";

const SingleEvseFileSchema = v.strictObject({ ...GLOBAL_ENTRIES, ...EVSE_ENTRIES });

const MultiEvseFileSchema = v.strictObject({
  ...GLOBAL_ENTRIES,
  evses: v.pipe(v.array(EvseConfigSchema), v.minLength(1, "must list at least one EVSE")),
});

export interface AppConfig {
  api: { token?: string; host: string; port: number };
  board: "sim" | "hid";
  storage: { path: string };
  log_format: "text" | "json";
  update: { public_key?: string; max_size_mb: number; health_timeout_s: number };
  ocpp: OcppOptions;
  auth: AuthOptions;
  control: ControlOptions;
  site: SiteOptions;
  mqtt: MqttConfig;
  evses: EvseConfig[];
}

const EVSE_KEYS = new Set(Object.keys(EVSE_ENTRIES));

function problemsOf(issues: readonly v.BaseIssue<unknown>[], multi: boolean): ConfigProblem[] {
  return issues.map((issue) => {
    const path = issuePath(issue);
    let message = issueMessage(issue);
    if (issue.expected === "never") {
      message =
        multi && issue.path?.length === 1 && EVSE_KEYS.has(path)
          ? "is an EVSE option: with an `evses:` list it belongs inside each list item"
          : "is not a known option";
    }
    return { path, message };
  });
}

/** `source` names the file in error messages ("<defaults>" when there is none). */
export function parseConfig(raw: unknown, source: string): AppConfig {
  const doc = raw === null || raw === undefined ? {} : raw;
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new ConfigError(source, [{ path: "", message: "the configuration must be a mapping of option names to values" }]);
  }
  const problems: ConfigProblem[] = [];
  const expanded = expandDottedKeys(doc, problems) as Record<string, unknown>;
  if (problems.length > 0) throw new ConfigError(source, problems);

  const multi = "evses" in expanded;
  let global: v.InferOutput<v.ObjectSchema<typeof GLOBAL_ENTRIES, undefined>>;
  let evses: EvseConfig[];
  if (multi) {
    const result = v.safeParse(MultiEvseFileSchema, expanded);
    if (!result.success) throw new ConfigError(source, problemsOf(result.issues, true));
    const { evses: list, ...rest } = result.output;
    global = rest;
    evses = list;
  } else {
    const result = v.safeParse(SingleEvseFileSchema, expanded);
    if (!result.success) throw new ConfigError(source, problemsOf(result.issues, false));
    const { api, board, storage, log_format, update, control, site, mqtt, ocpp, auth, ...evse } = result.output;
    global = { api, board, storage, log_format, update, control, site, mqtt, ocpp, auth };
    evses = [evse];
  }

  const api: AppConfig["api"] = { host: global.api.host, port: global.api.port };
  if (global.api.token !== undefined && global.api.token !== "") api.token = global.api.token;
  return { api, board: global.board, storage: global.storage, log_format: global.log_format, update: global.update, control: global.control, site: global.site, mqtt: global.mqtt, ocpp: global.ocpp, auth: global.auth, evses };
}
