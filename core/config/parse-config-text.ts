// The text of a configuration file: YAML (JSON is valid YAML), then the schema. Pure: reading the
// file is the caller's (api/config-file.ts). Any failure is a ConfigError naming the file, so
// main.ts can print it and exit 2.
import { parse, YAMLParseError } from "yaml";
import { ConfigError } from "./config-error.ts";
import { parseConfig, type AppConfig } from "./parse-config.ts";

export function parseConfigText(text: string, file: string): AppConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    const what = err instanceof YAMLParseError ? err.message : String(err);
    throw new ConfigError(file, [{ path: "", message: `not valid YAML: ${what}` }]);
  }
  return parseConfig(doc, file);
}
