// The main thread's side of the simulated boards: one thread (thread.ts) for every simulated
// connector of the process, started with the first and ended with the last, and per connector the
// SimControl that GET/POST …/sim use. The thread shares each connector's buffer with its worker;
// all workers ring one doorbell (`bell`) that the thread sleeps on.
import * as Comlink from "comlink";
import { CarBusyError, parseCarScript } from "../car/index.ts";
import type { SimControl, SimState } from "../../rt-worker/board-handle.ts";
import { CAR_STATES, CP_STATES, emptySimView, type Shm } from "../../rt-worker/shm-layout.ts";
import type { BenchOptions } from "./bench-mode.ts";
import type { SimThreadApi, SimThreadInit } from "./thread.ts";

/** One connector's simulated board, as its host sees it. */
export interface SimBoardAttachment {
  control: SimControl;
  /** Bench mode only: runs the C↔B toggles on the sim thread; µs on the sim clock. */
  bench(opts: BenchOptions): Promise<Float64Array>;
  /** Stops this board; the thread ends with the last one. */
  stop(): Promise<void>;
}

export type SimBoardInit = Omit<SimThreadInit, "sab" | "bell" | "id">;

interface SharedThread {
  worker: Worker;
  api: Comlink.Remote<SimThreadApi>;
  bell: SharedArrayBuffer;
  users: number;
}

let shared: SharedThread | null = null;
let lastId = 0;
const STOP_WAIT_MS = 500;

/** The doorbell of the process's sim thread, spawned by `spawn` if it does not run yet. A
 *  connector's Shm is created with it (Shm.create(bell)) before attachSimBoard. */
export function simBell(spawn: () => Worker): SharedArrayBuffer {
  shared ??= { worker: spawn(), api: null!, bell: new SharedArrayBuffer(4), users: 0 };
  shared.api ??= Comlink.wrap<SimThreadApi>(shared.worker as any);
  return shared.bell;
}

/** Starts a board on the shared thread (simBell() first). */
export async function attachSimBoard(shm: Shm, init: SimBoardInit): Promise<SimBoardAttachment> {
  const thread = shared;
  const id = ++lastId;
  if (thread === null || shm.simBell !== thread.bell) throw new Error("attachSimBoard: create the Shm with simBell() first");
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
  try {
    await thread.api.start({ ...init, id, sab: shm.sab, bell: thread.bell });
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return {
    control: new SimControlImpl(shm, id, thread.api),
    bench: (opts) => thread.api.bench(id, opts),
    stop,
  };
}

class SimControlImpl implements SimControl {
  readonly #shm: Shm;
  readonly #id: number;
  readonly #api: Comlink.Remote<SimThreadApi>;
  readonly #view = emptySimView();
  /** Script posts and stops sent; the sim thread acknowledges each (SIM_CAR_ACK). */
  #sent = 0;
  #pendingRunning = false;
  #script: string | null = null;

  constructor(shm: Shm, id: number, api: Comlink.Remote<SimThreadApi>) {
    this.#shm = shm;
    this.#id = id;
    this.#api = api;
  }

  #running(): boolean {
    this.#shm.readSim(this.#view);
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
