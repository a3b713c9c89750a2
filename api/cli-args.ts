// Command-line flags of the program (http-api.md "Starting the program"). Parsing only: any
// problem is a CliError whose message main.ts prints before exiting with code 2.
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

const VALUE_FLAGS = ["--config", "--host", "--port", "--board", "--log-format"] as const;

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new CliError(`${flag}: "${value}" is not one of ${allowed.join(", ")}`);
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const out: CliArgs = { help: false, version: false };
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k]!;
    if (arg === "--help" || arg === "-h") {
      out.help = true;
      continue;
    }
    if (arg === "--version") {
      out.version = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq > 0 && arg.startsWith("--") ? arg.slice(0, eq) : arg;
    if (!(VALUE_FLAGS as readonly string[]).includes(flag)) throw new CliError(`unknown option "${arg}" (see --help)`);
    let value: string;
    if (eq > 0 && arg.startsWith("--")) value = arg.slice(eq + 1);
    else {
      const next = argv[k + 1];
      if (next === undefined || next.startsWith("--")) throw new CliError(`${flag} needs a value`);
      value = next;
      k++;
    }
    switch (flag) {
      case "--config":
        if (value === "") throw new CliError("--config needs a file name");
        out.config = value;
        break;
      case "--host":
        if (value === "") throw new CliError("--host must not be empty");
        out.host = value;
        break;
      case "--port": {
        const port = Number(value);
        if (!/^\d+$/.test(value) || port > 65535) throw new CliError(`--port: "${value}" is not a port number (0-65535)`);
        out.port = port;
        break;
      }
      case "--board":
        out.board = oneOf(flag, value, ["sim", "hid"] as const);
        break;
      case "--log-format":
        out.log_format = oneOf(flag, value, ["text", "json"] as const);
        break;
    }
  }
  return out;
}

/** Loopback addresses are the only ones served without a token (http-api.md). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || h === "::ffff:127.0.0.1";
}
