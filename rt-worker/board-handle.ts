// What the main thread gets back from startBoard(): one connector's board, reached through the
// real-time worker. The kernel talks to `port` and listens with `onInput`; the API reads
// `sim` (simulated board only) and `health`.
import type { BoardInput, BoardPort } from "../core/ports.ts";

export interface BoardOptions {
  /** "sim": simulated board + car in their own thread; "hid": a real board over node-hid. */
  kind: "sim" | "hid";
  /** 1-based EVSE index, used in thread names and logs. */
  index: number;
  hid?: { path?: string; vendor_id?: number; product_id?: number };
  /** The `sim.*` options of simulation.md §5 item 6 (validated by the config schema). */
  sim?: SimOptions;
}

export interface SimOptions {
  max_current_A_import: number; // default 32
  connector_type: "IEC62196Type2Cable" | "IEC62196Type2Socket"; // default IEC62196Type2Cable
  pp_resistor_ohm: number; // default 220.1
  keep_plug_state_across_restart: boolean; // default false
  weld_relays: boolean; // default false
  /** Seed for the meter/CP noise so tests are repeatable. */
  seed?: number;
}

/** GET /api/v1/evses/{i}/sim (http-api.md, "Simulated board"). */
export interface SimState {
  cp_state: "A" | "B" | "C" | "D" | "E" | "F";
  pwm_duty_percent: number | null;
  relays_closed: boolean;
  phases: 1 | 3;
  locked: boolean;
  rcd_current_mA: number;
  meter: {
    energy_Wh_import: number;
    power_W: number;
    current_A: { L1: number; L2: number; L3: number };
    voltage_V: { L1: number; L2: number; L3: number };
  };
  car: { running: boolean; script: string | null; state: string };
}

export interface SimControl {
  state(): SimState;
  /** Throws CarScriptError (sim/car) when the script does not parse; nothing changes then.
   *  Throws CarBusyError when a script runs and replace is false. */
  postScript(script: string, replace: boolean): void;
  stopScript(): void;
  setWeldRelays(weld: boolean): void;
}

export interface BoardHealth {
  worker_running: boolean;
  board_answering: boolean;
}

export interface BoardHandle {
  port: BoardPort;
  /** Inputs are delivered in the order the board produced them. */
  onInput(listener: (input: BoardInput) => void): void;
  sim: SimControl | null;
  health(): BoardHealth;
  /** The PWM duty (percent) the board last reported generating; null without PWM (site balancing
   *  raises a share only once the lowered offers are in effect). */
  reportedDutyPercent(): number | null;
  /** Opens the relays, stops the threads. */
  stop(): Promise<void>;
}
