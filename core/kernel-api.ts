// The kernel's public surface: what main.ts wires up and what api/ calls. One kernel per EVSE.
import type { BoardInput, BoardPort, Clock, ErrorSeverity, MeterPort, TransactionStore } from "./ports.ts";
import type { EnforcedLimits, Powermeter } from "./types/index.ts";
import type { ControlOptions, EvseConfig } from "./config/index.ts";

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
  /** Local control (integration.md §2); defaults: priority 100, failsafe off. */
  control?: ControlOptions;
}

/** PUT …/control (integration.md §2), already validated; every field optional. */
export interface LocalControlRequest {
  enabled?: boolean;
  /** 0 pauses; null removes the local limit. */
  max_current_A?: number | null;
  phases?: 1 | 3;
}

/** Null when applied; otherwise why nothing was changed (the API answers 409). */
export type LocalControlRefusal = string | null;

/** A snapshot of what the kernel knows now: the status summary (integration.md §1) and the site
 *  balancer read it. */
export interface KernelStatus {
  /** EvseState (behavior.md §3.1). */
  state: string;
  /** The CP state the board reports now; null before the first report. */
  cp: "A" | "B" | "C" | "D" | "E" | "F" | null;
  relays_closed: boolean;
  enabled: boolean;
  /** A blocking error withholds energy (behavior.md §8). */
  faulted: boolean;
  /** The current of the PWM set now; 0 without PWM. */
  offered_current_A: number;
  /** Ieff: the minimum of every limit, site share included. */
  max_current_A: number;
  /** Ieff without the site share: what this EVSE could take from the site. */
  own_limit_A: number;
  /** Board capabilities; null until they arrive. */
  hardware_max_current_A: number | null;
  phases: number;
  transaction_active: boolean;
  session_uuid: string | null;
  id_tag: string | null;
  meter: Powermeter | null;
  /** Energy of the running transaction, or of the last one until the next session starts. */
  session_energy_Wh: number;
  /** The local limit as set by PUT …/control (null: none), and whether the failsafe replaced it. */
  local_limit_A: number | null;
  failsafe: boolean;
  /** The site share (integration.md §6); null without a site limit. */
  site_share_A: number | null;
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
  /** Synchronous snapshot (integration.md §1). */
  status(): KernelStatus;
  /** PUT …/control (integration.md §2). `enabled` and `phases` reject with KernelNotStartedError
   *  before the start; a limit alone is accepted at any time (it is restored before the boot). */
  localControl(request: LocalControlRequest): Promise<LocalControlRefusal>;
  /** The site balancer's share (integration.md §6). Takes effect at once for every later pass
   *  (so an offer never rises above it afterwards); the PWM follows in the queued pass. */
  setSiteShare(currentA: number | null): Promise<void>;
}
