// The kernel's only doors to the outside world. core/ does no I/O of its own: the host
// (main.ts) hands it these ports, and unit tests hand it fakes with an injected clock.
// Names follow interface.md §3 (evse_board_support at 2025.1.0) and §3b (powermeter).
import type {
  HardwareCapabilities,
  Powermeter,
  PowerOnOff,
  ProximityPilot,
  StopTransactionRequest,
  Telemetry,
  TransactionReq,
  TransactionStartResponse,
  TransactionStopResponse,
} from "./types/index.ts";

/** Milliseconds since the Unix epoch. Real time in production, a fake in tests. */
export interface Clock {
  now(): number;
}

/** Commands the kernel sends to the board (evse_board_support at 2025.1.0). Fire and forget,
 * except ac_read_pp_ampacity, which answers from the board's latest report. */
export interface BoardPort {
  enable(value: boolean): void;
  pwm_on(value: number): void; // duty in percent, 0 < value < 100
  pwm_off(): void; // X1
  pwm_F(): void; // F
  allow_power_on(value: PowerOnOff): void;
  ac_switch_three_phases_while_charging(value: boolean): void;
  ac_set_overcurrent_limit_A(value: number): void;
  ac_read_pp_ampacity(): ProximityPilot;
  // connector_lock interface
  lock(): void;
  unlock(): void;
}

export type BspEventEnum =
  | "A"
  | "B"
  | "C"
  | "D"
  | "E"
  | "F"
  | "PowerOn"
  | "PowerOff"
  | "EvseReplugStarted"
  | "EvseReplugFinished"
  | "Disconnected";

export type ErrorSeverity = "Low" | "Medium" | "High";

/** What the board (and its meter, RCD and lock) reports to the kernel, strictly in order. */
export type BoardInput =
  | { kind: "event"; event: BspEventEnum }
  | { kind: "capabilities"; value: HardwareCapabilities }
  | { kind: "telemetry"; value: Telemetry }
  | { kind: "powermeter"; value: Powermeter }
  | { kind: "public_key_ocmf"; value: string }
  | { kind: "ac_nr_of_phases_available"; value: number }
  | { kind: "request_stop_transaction"; value: StopTransactionRequest }
  /** type is "<list>/<Name>", e.g. "evse_board_support/DiodeFault", "ac_rcd/DC". */
  | { kind: "error_raised"; type: string; sub_type: string; message: string; severity: ErrorSeverity }
  | { kind: "error_cleared"; type: string; sub_type: string };

/** The billing meter (powermeter interface). Asynchronous: a real meter answers over a bus,
 * and OCMF signing is async. The kernel awaits these inside its FIFO. */
export interface MeterPort {
  start_transaction(value: TransactionReq): Promise<TransactionStartResponse>;
  stop_transaction(transaction_id: string): Promise<TransactionStopResponse>;
}

/** behavior.md §16.1: the one persistent record of the running transaction. */
export interface TransactionRecord {
  uuid: string;
  id_tag: unknown; // ProvidedIdToken, stored as received
  start_meter_value: Powermeter;
  latest_meter_value: Powermeter;
  start_signed_meter_value?: unknown;
  reservation_id?: number;
  started_at: string;
}

export interface TransactionStore {
  load(): TransactionRecord | null;
  save(record: TransactionRecord): void;
  clear(): void;
}
