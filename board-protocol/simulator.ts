// The host's contract with a simulated board: what startBoard() needs to run one (a factory that
// main passes in, so rt-worker/ needs nothing from sim/), and what it hands to the API
// (GET/POST …/sim). The simulator implements it in sim/board/boards.ts.
import type { SimConfig } from "../core/config/index.ts";
import type { DoorbellRef } from "./report-ring.ts";

/** The `sim.*` options of simulation.md §5 item 6 (core/config SimOptionsSchema). */
export type SimOptions = SimConfig;

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

/** Bench mode (bench/run.ts): C↔B toggles timed on the simulator's clock. */
export interface BenchOptions {
  samples: number;
  /** Give up after this long (ms) and return what was measured. */
  timeoutMs: number;
}

export interface SimulatedBoardInit {
  /** The two report rings (board-protocol newBoardLink()). */
  link: SharedArrayBuffer;
  /** Rung by the board when a report for the host is in the ring. */
  hostBell: DoorbellRef;
  options: SimOptions;
  /** keep_plug_state_across_restart: the car starts plugged in. */
  startPluggedIn: boolean;
  /** The meter's accumulators (Wh per phase L1–L3) as the previous process left them. */
  startMeter?: { import_Wh: number[]; export_Wh: number[] };
  /** No physics steps and no car: the bench drives the board. */
  bench: boolean;
}

export interface SimulatedBoard {
  control: SimControl;
  /** Bench mode only: reaction times in µs on the simulator's clock. */
  bench(opts: BenchOptions): Promise<Float64Array>;
  /** Stops this board. */
  stop(): Promise<void>;
}

/** Starts simulated boards; one factory serves every connector of the process. */
export interface SimulatorFactory {
  /** Rung by a host when a report needs an answer at once. Known before attach() resolves, so a
   *  host can start its worker while the board attaches. */
  readonly boardBell: DoorbellRef;
  attach(init: SimulatedBoardInit): Promise<SimulatedBoard>;
}
