// Command lines of the update subcommands, parsed by util.parseArgs in strict mode: an unknown
// flag, a missing value or a stray argument is a UsageError (exit 2) naming it.
import { parseArgs, type ParseArgsConfig } from "node:util";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

export function parseStrict<O extends Options>(args: string[], options: O, allowPositionals: boolean) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true, tokens: true });
  } catch (err) {
    // node's messages name the flag ("Unknown option '--x'", "Option '--key <value>' argument
    // missing"); only the error code prefix is dropped.
    throw new UsageError((err as Error).message.replace(/^\[?ERR_PARSE_ARGS_[A-Z_]+\]?:?\s*/, "").replace(/\s*\n\s*/g, " "));
  }
}
