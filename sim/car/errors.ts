// The two ways a posted car script is refused (http-api.md, POST …/sim/car): it does not parse
// (400, naming the command) or another script is still running and `replace` is not set (409).

/** A script that does not parse. `command` is the offending command as written, lower-cased
 * ("" when the script has no command at all). Nothing about the car changes when this is thrown. */
export class CarScriptError extends Error {
  override readonly name = "CarScriptError";
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(message);
  }
}

/** A script is running and the new one was posted without `replace: true`. */
export class CarBusyError extends Error {
  override readonly name = "CarBusyError";
  constructor(readonly running_script: string) {
    super("a car script is already running; post with replace: true to take its place, or stop it first");
  }
}
