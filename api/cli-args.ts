// Command-line flags of the program (http-api.md "Starting the program"). Parsing only: any
// problem is a CliError whose message main.ts prints before exiting with code 2.
//
// Parsed by `arg` (4 kB) rather than node:util's parseArgs: node:util is some 1.5 ms of every
// start without the JIT, and nothing else on the start path needs it.
import arg from "arg";

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

const SPEC = {
  "--help": Boolean,
  "-h": "--help",
  "--version": Boolean,
  "--config": String,
  "--host": String,
  "--port": String,
  "--board": String,
  "--log-format": String,
} as const;

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new CliError(`${flag}: "${value}" is not one of ${allowed.join(", ")}`);
}

/** arg's errors in this program's words; arg ends its message with the offending flag. */
function cliError(err: unknown): CliError {
  const code = (err as { code?: unknown }).code;
  const message = (err as Error).message ?? String(err);
  const flag = /: (\S+)$/.exec(message)?.[1] ?? "";
  if (code === "ARG_UNKNOWN_OPTION") return new CliError(`unknown option "${flag}" (see --help)`);
  if (code === "ARG_MISSING_REQUIRED_LONGARG") return new CliError(`${flag} needs a value`);
  return new CliError(`${message} (see --help)`);
}

function flags(argv: readonly string[]) {
  // arg reads `--help=yes` as --help; a value given to a flag that takes none is refused instead.
  for (const word of argv) {
    if (word === "--") break;
    const given = /^(--help|--version)=/.exec(word);
    if (given) throw new CliError(`${given[1]} takes no value (see --help)`);
  }
  let parsed: arg.Result<typeof SPEC>;
  try {
    parsed = arg(SPEC, { argv: [...argv] });
  } catch (err) {
    throw cliError(err);
  }
  const positional = parsed._[0];
  if (positional !== undefined) throw new CliError(`unknown option "${positional}" (see --help)`);
  return {
    help: parsed["--help"],
    version: parsed["--version"],
    config: parsed["--config"],
    host: parsed["--host"],
    port: parsed["--port"],
    board: parsed["--board"],
    "log-format": parsed["--log-format"],
  };
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
