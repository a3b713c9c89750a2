// The text of a configuration file: YAML (JSON is valid YAML), then the schema. Pure: reading the
// file is the caller's (api/config-file.ts). Any failure is a ConfigError naming the file, so
// main.ts can print it and exit 2.
//
// A text that is JSON is read as JSON, with the YAML parser's refusal of repeated keys: the same
// document without running the YAML parser, some 5 ms of every start without the JIT. Anything
// else goes to the YAML parser.
import { ConfigError } from "./config-error.ts";
import { duplicateJsonKey } from "./duplicate-json-key.ts";
import { parseConfig, type AppConfig } from "./parse-config.ts";

// Bun's; declared here because the dashboard's type check (web/), which sees this file through
// the configuration types, has no runtime types.
declare const require: (id: string) => unknown;

function parseYaml(text: string, file: string): unknown {
  // Required here, not imported at the top: the package's code then runs only for YAML.
  const { parse, YAMLParseError } = require("yaml") as typeof import("yaml");
  try {
    return parse(text);
  } catch (err) {
    const what = err instanceof YAMLParseError ? err.message : String(err);
    throw new ConfigError(file, [{ path: "", message: `not valid YAML: ${what}` }]);
  }
}

/** The document of a JSON text; undefined when the text is not JSON. */
function parseJson(text: string, file: string): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const dup = duplicateJsonKey(text);
  if (dup !== null) {
    throw new ConfigError(file, [{ path: dup.path, message: `given twice (the second time on line ${dup.line}); each option may be given once` }]);
  }
  return doc;
}

export function parseConfigText(text: string, file: string): AppConfig {
  return parseConfig(parseJson(text, file) ?? parseYaml(text, file), file);
}
