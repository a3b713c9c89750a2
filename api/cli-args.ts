// Command-line flags of the program (http-api.md "Starting the program"). Parsing only: any
// problem is a CliError whose message main.ts prints before exiting with code 2.
import { parseArgs as parseFlags } from "node:util";

export const USAGE = `Usage: evse-manager [--config FILE] [--host HOST] [--port PORT] [--board sim|hid]
                    [--log-format text|json] [--help] [--version]

  --config FILE        YAML (or JSON) configuration file; without it the defaults apply
  --host HOST          address to listen on (default 127.0.0.1; other than loopback needs a token)
  --port PORT          TCP port (default 8080; 0 picks a free port and prints it)
  --board sim|hid      simulated board and car (default) or a real board over USB HID
  --log-format FORMAT  text (default) or json: one JSON object per log line
  --help               print this help and exit
  --version            print the version and exit

The API token comes from the config (api.token) or EVSE_API_TOKEN, which wins.`;

export interface CliArgs {
  help: boolean;
  version: boolean;
  config?: string;
  host?: string;
  port?: number;
  board?: "sim" | "hid";
  log_format?: "text" | "json";
}

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
  config: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  board: { type: "string" },
  "log-format": { type: "string" },
} as const;

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new CliError(`${flag}: "${value}" is not one of ${allowed.join(", ")}`);
}

/** util.parseArgs's errors in this program's words; the offending flag is quoted in its message. */
function cliError(err: unknown): CliError {
  const code = (err as { code?: unknown }).code;
  const message = (err as Error).message ?? String(err);
  const quoted = /'(?:-\w, )?([^' ]+)/.exec(message)?.[1] ?? "";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    return new CliError(`unknown option "${quoted}" (see --help)`);
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    return new CliError(/does not take an argument/.test(message) ? `${quoted} takes no value (see --help)` : `${quoted} needs a value`);
  }
  return new CliError(`${message} (see --help)`);
}

function flags(argv: readonly string[]) {
  try {
    return parseFlags({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw cliError(err);
  }
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const values = flags(argv);
  const out: CliArgs = { help: values.help === true, version: values.version === true };
  if (values.config !== undefined) {
    if (values.config === "") throw new CliError("--config needs a file name");
    out.config = values.config;
  }
  if (values.host !== undefined) {
    if (values.host === "") throw new CliError("--host must not be empty");
    out.host = values.host;
  }
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535) throw new CliError(`--port: "${values.port}" is not a port number (0-65535)`);
    out.port = port;
  }
  if (values.board !== undefined) out.board = oneOf("--board", values.board, ["sim", "hid"] as const);
  if (values["log-format"] !== undefined) out.log_format = oneOf("--log-format", values["log-format"], ["text", "json"] as const);
  return out;
}

/** Loopback addresses are the only ones served without a token (http-api.md). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || h === "::ffff:127.0.0.1";
}
