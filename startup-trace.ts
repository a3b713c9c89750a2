// EVSE_STARTUP_TRACE=1: the start-up's steps on stderr, as milliseconds since the process was
// first executed (before a re-execution by launch.ts too: launch.ts hands its start time on in
// EVSE_STARTUP_T0). For measuring where start-up time goes (README, "Measured figures"); nothing
// is written without the variable.
const ON = process.env.EVSE_STARTUP_TRACE === "1";
const T0 = Number(process.env.EVSE_STARTUP_T0 ?? performance.timeOrigin);

/** Writes `+<ms> <label>` to stderr when tracing. */
export function startupMark(label: string): void {
  // console.error, not process.stderr: that stream loads node:stream, some 20 ms of start-up.
  if (ON) console.error(`startup +${(performance.timeOrigin + performance.now() - T0).toFixed(1)} ms ${label}`);
}

/** The variables a re-execution needs to go on counting from the first start. */
export function startupTraceEnv(): Record<string, string> {
  return ON ? { EVSE_STARTUP_T0: String(T0) } : {};
}
