// The kernel's public surface: what main.ts wires up and what api/ calls. One kernel per EVSE.
import type { BoardInput, BoardPort, Clock, ErrorSeverity, MeterPort, TransactionStore } from "./ports.ts";
import type { EnforcedLimits } from "./types/index.ts";
import type { EvseConfig } from "./config/index.ts";

/** The 13 commands of interface.md §1.1, verbatim. */
export const COMMAND_NAMES = [
  "get_evse",
  "enable_disable",
  "authorize_response",
  "withdraw_authorization",
  "reserve",
  "cancel_reservation",
  "set_faulted",
  "pause_charging",
  "resume_charging",
  "stop_transaction",
  "force_unlock",
  "set_get_certificate_response",
  "external_ready_to_start_charging",
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** The 14 variables of interface.md §1.2, verbatim. */
export const VARIABLE_NAMES = [
  "session_event",
  "limits",
  "ev_info",
  "car_manufacturer",
  "telemetry",
  "powermeter",
  "powermeter_public_key_ocmf",
  "evse_id",
  "hw_capabilities",
  "iso15118_certificate_request",
  "enforced_limits",
  "waiting_for_external_ready",
  "ready",
  "selected_protocol",
] as const;
export type VariableName = (typeof VARIABLE_NAMES)[number];

/** GET /errors item (http-api.md). */
export interface ActiveError {
  type: string; // "<list>/<Name>"
  sub_type: string;
  message: string;
  severity: ErrorSeverity;
  state: "Active";
  timestamp: string; // RFC 3339
  uuid: string;
}

export interface KernelDeps {
  clock: Clock;
  board: BoardPort;
  meter: MeterPort | null;
  store: TransactionStore;
  config: EvseConfig;
  /** Called synchronously, in order, for every publication of a variable. */
  publish(name: VariableName, value: unknown): void;
  log(line: string): void;
  newUuid(): string;
  /** Node id used as limits.uuid (behavior.md §13.3). */
  nodeId: string;
}

/** Thrown by command() before the kernel has started (http-api.md: 409). */
export class KernelNotStartedError extends Error {
  constructor(command: string) {
    super(`${command} is refused until the kernel has started (waiting for the board or external_ready_to_start_charging)`);
    this.name = "KernelNotStartedError";
  }
}

export interface EvseKernel {
  /** §16.3 step 1: publish evse_id and waiting_for_external_ready; the rest of the boot sequence
   *  proceeds on board inputs and ticks (capabilities, first meter value, stored record). */
  boot(): void;
  /** Queue a board report; processed in arrival order (§1.2). */
  boardInput(input: BoardInput): void;
  /** Arguments are already validated against interface.md. Resolves with the command's result
   *  (null for commands without result). Rejects with KernelNotStartedError per §16.4. */
  command(name: CommandName, args: Record<string, unknown>): Promise<unknown>;
  /** POST …/energy/enforce_limits (body already validated). */
  enforceLimits(value: EnforcedLimits): Promise<void>;
  /** The 100 ms periodic pass; the host calls it on a timer, tests call it after advancing the clock. */
  tick(): Promise<void>;
  /** Resolves when every queued input has been processed (tests and shutdown). */
  idle(): Promise<void>;
  started(): boolean;
  errors(): ActiveError[];
  /** §16.5: R-, CP X1, persist the latest meter value. */
  shutdown(): Promise<void>;
}
