// Reads the --config file. YAML (JSON is valid YAML); any failure becomes a ConfigError
// naming the file, so main.ts can print it and exit 2.
import { readFileSync } from "node:fs";
import { parse, YAMLParseError } from "yaml";
import { ConfigError } from "./config-error.ts";
import { parseConfig, type AppConfig } from "./parse-config.ts";

export function loadConfigFile(path: string): AppConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : (err as Error).message;
    throw new ConfigError(path, [{ path: "", message: `cannot read the configuration file: ${reason}` }]);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    const what = err instanceof YAMLParseError ? err.message : String(err);
    throw new ConfigError(path, [{ path: "", message: `not valid YAML: ${what}` }]);
  }
  return parseConfig(doc, path);
}
