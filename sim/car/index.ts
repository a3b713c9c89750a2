// Public surface of the simulated car (simulation.md §1 with the product rules of §5).
export type { CarInputs, CarOutputs, CarStateName } from "./contract.ts";
export { CarBusyError, CarScriptError } from "./errors.ts";
export { CAR_COMMAND_NAMES, CarCommandSchema, parseCarScript } from "./parse.ts";
export type { CarCommand, CarCommandName } from "./parse.ts";
export { CAR_DEFAULT_RCD_CURRENT_mA, CAR_TICK_MS, Car, carSeesValidPwm, sleepTicks } from "./car.ts";
export type { CarStatus } from "./car.ts";
