// The main thread's side of the simulated boards: the SimulatorFactory main passes to startBoard
// (board-protocol/simulator.ts). One thread (thread.ts) runs every simulated connector of the
// process, started with the first and ended with the last; every connector's worker rings its one
// doorbell. Per connector the SimControl that GET/POST …/sim use, reading the board's view.
import * as Comlink from "comlink";
import { CarBusyError, parseCarScript } from "../car/index.ts";
import { CP_STATES, type DoorbellRef, type SimControl, type SimState, type SimulatedBoard, type SimulatedBoardInit, type SimulatorFactory } from "../../board-protocol/index.ts";
import { CAR_STATES, emptySimView, SimViewBuffer } from "./sim-view.ts";
import type { SimThreadApi } from "./thread.ts";

interface SharedThread {
  worker: Worker;
  api: Comlink.Remote<SimThreadApi>;
  users: number;
}

const STOP_WAIT_MS = 500;
let shared: SharedThread | null = null;
let lastId = 0;
/** The thread's one doorbell, rung by every connector's worker. One for the process, kept when a
 *  thread ends and the next begins: a new thread starts waiting from its current count. */
const BOARD_BELL: DoorbellRef = { sab: new SharedArrayBuffer(4), index: 0 };

/** The process's simulator: `spawn` starts its thread (sim/board/thread.ts) when the first board
 *  attaches (main.ts passes the one it prespawned, rt-worker/prespawn.ts). */
export function simulatedBoards(spawn: () => Worker): SimulatorFactory {
  return { boardBell: BOARD_BELL, attach: (init) => attach(init, spawn) };
}

async function attach(init: SimulatedBoardInit, spawn: () => Worker): Promise<SimulatedBoard> {
  if (shared === null) {
    const worker = spawn();
    shared = { worker, api: Comlink.wrap<SimThreadApi>(worker as any), users: 0 };
  }
  const thread = shared;
  const id = ++lastId;
  const view = SimViewBuffer.create();
  thread.users++;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      // Bounded: a thread that hangs must not hold up the shutdown (it is terminated below).
      await Promise.race([thread.api.stop(id), new Promise((r) => setTimeout(r, STOP_WAIT_MS))]);
    } finally {
      if (--thread.users === 0) {
        if (shared === thread) shared = null;
        // Release the proxy while the thread still lives: otherwise comlink's finalizer later
        // posts a release to a terminated worker and the rejection surfaces far from here.
        releaseQuietly(thread.api);
        thread.worker.terminate();
      }
    }
  };
  const { keep_plug_state_across_restart: _, ...options } = init.options;
  try {
    await thread.api.start({
      id,
      link: { link: init.link, hostBell: init.hostBell, boardBell: BOARD_BELL },
      view: view.sab,
      options,
      startPluggedIn: init.startPluggedIn,
      ...(init.startMeter ? { startMeter: init.startMeter } : {}),
      bench: init.bench,
    });
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return {
    control: new SimControlImpl(view, id, thread.api),
    bench: (opts) => thread.api.bench(id, opts),
    stop,
  };
}

class SimControlImpl implements SimControl {
  readonly #board: SimViewBuffer;
  readonly #id: number;
  readonly #api: Comlink.Remote<SimThreadApi>;
  readonly #view = emptySimView();
  /** Script posts and stops sent; the sim thread acknowledges each (SIM_CAR_ACK). */
  #sent = 0;
  #pendingRunning = false;
  #script: string | null = null;

  constructor(board: SimViewBuffer, id: number, api: Comlink.Remote<SimThreadApi>) {
    this.#board = board;
    this.#id = id;
    this.#api = api;
  }

  #running(): boolean {
    this.#board.read(this.#view);
    // Until the sim thread has applied our last post/stop, our own record is the truth.
    return this.#view.carAck < this.#sent ? this.#pendingRunning : this.#view.carRunning;
  }

  state(): SimState {
    const running = this.#running();
    const v = this.#view;
    return {
      cp_state: CP_STATES[v.cp] ?? "A",
      pwm_duty_percent: v.pwm < 0 ? null : v.pwm / 100,
      relays_closed: v.relays,
      phases: v.phases === 1 ? 1 : 3,
      locked: v.locked,
      rcd_current_mA: Math.round(v.rcd_mA * 100) / 100,
      meter: {
        energy_Wh_import: v.energy_Wh,
        power_W: v.power_W,
        current_A: { L1: r2(v.current[0]), L2: r2(v.current[1]), L3: r2(v.current[2]) },
        voltage_V: { L1: r2(v.voltage[0]), L2: r2(v.voltage[1]), L3: r2(v.voltage[2]) },
      },
      car: { running, script: running ? this.#script : null, state: CAR_STATES[v.carState] ?? "UNPLUGGED" },
    };
  }

  postScript(script: string, replace: boolean): void {
    parseCarScript(script); // CarScriptError: nothing changes
    if (this.#running() && !replace) throw new CarBusyError(this.#script ?? "");
    this.#sent++;
    this.#pendingRunning = true;
    this.#script = script;
    this.#api.postScript(this.#id, script, replace).catch((err: unknown) => console.error("sim board refused the car script:", err));
  }

  stopScript(): void {
    this.#sent++;
    this.#pendingRunning = false;
    this.#api.stopScript(this.#id).catch((err: unknown) => console.error("sim board could not stop the car script:", err));
  }

  setWeldRelays(weld: boolean): void {
    this.#api.setWeldRelays(this.#id, weld === true).catch((err: unknown) => console.error("sim board could not set weld_relays:", err));
  }
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** A proxy that was already released (or whose thread is gone) has nothing left to free. */
function releaseQuietly(api: Comlink.Remote<unknown>): void {
  try {
    Promise.resolve(api[Comlink.releaseProxy]() as unknown).catch(() => {});
  } catch {
    // already released
  }
}
