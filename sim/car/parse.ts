// The car-script grammar: upstream EvManager's (simulation.md §1.2) with the product rules of
// §5 item 1. Everything is checked here, when the script is posted, so a running script never
// meets a command it cannot execute (upstream drops bad commands only when they run).
import * as v from "valibot";
import { CarScriptError } from "./errors.ts";

// Upstream converts with stod/stoi; we accept plain decimal numbers only, so "1abc" or "0x10"
// are refused instead of being read as a prefix or as hex.
const NumberTokenSchema = v.pipe(
  v.string(),
  v.regex(/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/, "must be a number"),
  v.transform(Number),
  v.finite("must be a finite number"),
);

const num = v.number();

export const CarCommandSchema = v.variant("command", [
  v.strictObject({ command: v.literal("sleep"), seconds: num }),
  v.strictObject({ command: v.literal("iec_wait_pwr_ready") }),
  // phases: 3 means three phases, any other number one phase (upstream: phases == "3").
  v.strictObject({ command: v.literal("draw_power_regulated"), amps: num, phases: num }),
  v.strictObject({ command: v.literal("draw_power_fixed"), amps: num, phases: num }),
  v.strictObject({ command: v.literal("pause") }),
  v.strictObject({ command: v.literal("unplug") }),
  v.strictObject({ command: v.literal("error_e") }),
  v.strictObject({ command: v.literal("diode_fail") }),
  v.strictObject({ command: v.literal("rcd_current"), mA: num }),
  v.strictObject({ command: v.literal("set_soc"), percent: num }),
]);
export type CarCommand = v.InferOutput<typeof CarCommandSchema>;
export type CarCommandName = CarCommand["command"];

/** Argument names of each accepted command, in script order; every argument is a number. */
const ARGUMENTS: Record<CarCommandName, readonly string[]> = {
  sleep: ["seconds"],
  iec_wait_pwr_ready: [],
  draw_power_regulated: ["amps", "phases"],
  draw_power_fixed: ["amps", "phases"],
  pause: [],
  unplug: [],
  error_e: [],
  diode_fail: [],
  rcd_current: ["mA"],
  set_soc: ["percent"],
};

/** Upstream commands the product's car cannot run, with the reason given to the caller. */
const REFUSED: Record<string, string> = {
  wait_for_real_plugin: "it needs a real EV board in the loop, and the simulated car has none",
  plugin: "it needs EvManager's plugin_commands configuration, which the simulated car does not have",
};

export const CAR_COMMAND_NAMES = Object.keys(ARGUMENTS) as CarCommandName[];

function isCommandName(name: string): name is CarCommandName {
  return Object.hasOwn(ARGUMENTS, name);
}

function parsePiece(piece: string): CarCommand | null {
  const tokens = piece.replaceAll(",", " ").split(/\s+/).filter((t) => t !== "");
  const [name, ...args] = tokens;
  if (name === undefined) return null;

  if (name.startsWith("iso_")) {
    throw new CarScriptError(
      name,
      `${name}: not supported, no ISO 15118 stack is attached to the simulated car (only IEC 61851 basic charging)`,
    );
  }
  const refusal = REFUSED[name];
  if (refusal !== undefined) throw new CarScriptError(name, `${name}: not supported, ${refusal}`);
  if (!isCommandName(name)) {
    throw new CarScriptError(name, `${name}: unknown command (known: ${CAR_COMMAND_NAMES.join(", ")})`);
  }

  const names = ARGUMENTS[name];
  if (args.length !== names.length) {
    const expected = names.length === 0 ? "no arguments" : `${names.length} (${names.join(", ")})`;
    throw new CarScriptError(name, `${name}: expects ${expected}, got ${args.length}`);
  }
  const command: Record<string, string | number> = { command: name };
  names.forEach((argName, i) => {
    const token = args[i] ?? "";
    const parsed = v.safeParse(NumberTokenSchema, token);
    if (!parsed.success) {
      throw new CarScriptError(name, `${name}: ${argName} ${parsed.issues[0].message}, got "${token}"`);
    }
    command[argName] = parsed.output;
  });
  return v.parse(CarCommandSchema, command);
}

/** Parses a whole script or throws CarScriptError for the first bad command (in script order). */
export function parseCarScript(script: string): CarCommand[] {
  if (typeof script !== "string") throw new CarScriptError("", "script must be a string");
  const commands: CarCommand[] = [];
  for (const piece of script.toLowerCase().replace(/\r\n|\r|\n/g, ";").split(";")) {
    const command = parsePiece(piece);
    if (command !== null) commands.push(command);
  }
  if (commands.length === 0) throw new CarScriptError("", "the script has no command");
  return commands;
}
