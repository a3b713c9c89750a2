// Reads the --config file (the I/O that core/config leaves to its callers) and parses it there.
// Any failure is a ConfigError naming the file, so main.ts can print it and exit 2.
import { readFileSync } from "node:fs";
import { ConfigError, parseConfigText, type AppConfig } from "../core/config/index.ts";

export function loadConfigFile(path: string): AppConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : (err as Error).message;
    throw new ConfigError(path, [{ path: "", message: `cannot read the configuration file: ${reason}` }]);
  }
  return parseConfigText(text, path);
}
