// Thread entry of the simulated boards (built as its own entry point: keep this path): one thread
// for every simulated connector of the process, as one piece of hardware would be. It drives each
// pure SimBoard every 250 ms with its car stepped first (all boards in the same wake-up), answers
// output reports that need an answer at once (the worker rings the shared doorbell for those;
// heartbeats wait for the step), and mirrors each board's state into its connector's shared memory
// for GET …/sim. Control calls (car scripts, weld switch, bench) arrive through comlink, addressed
// by the board's id.
import * as Comlink from "comlink";
import { setPriority } from "node:os";
import { Car } from "../car/index.ts";
import { BoardEnd, Doorbell, type BenchOptions, type BoardLinkInit } from "../../board-protocol/index.ts";
import { BOARD_STEP_MS, SimBoard, type SimBoardOptions } from "./physics.ts";
import { runBench } from "./bench-mode.ts";
import { CAR_STATES, emptySimView, SimViewBuffer, type SimView } from "./sim-view.ts";
import { startupMark } from "../../startup-trace.ts";
startupMark("sim-boards thread evaluated");

export interface SimThreadInit {
  /** Unique in the process (a test may run two boards for connector 1): the address of every later call. */
  id: number;
  /** The report rings and doorbells; `link.boardBell` is this thread's one doorbell (boards.ts). */
  link: BoardLinkInit;
  /** What GET …/sim reads (sim-view.ts). */
  view: SharedArrayBuffer;
  options: SimBoardOptions;
  /** keep_plug_state_across_restart: start with the car plugged in (PLUGGED_IN, CP B). */
  startPluggedIn?: boolean;
  /** The meter's accumulators (Wh per phase L1–L3) as the previous process left them. */
  startMeter?: { import_Wh: number[]; export_Wh: number[] };
  /** Bench mode: no steps and no car; the bench drives the board through bench(). */
  bench?: boolean;
}

class SimUnit {
  readonly out: SimViewBuffer;
  readonly board: SimBoard;
  readonly car: Car;
  readonly port: BoardEnd;
  readonly bench: boolean;
  readonly view: SimView = emptySimView();
  acks = 0;
  readonly send = (report: Uint8Array) => this.port.send(report);

  constructor(init: SimThreadInit) {
    this.out = new SimViewBuffer(init.view);
    this.port = new BoardEnd(init.link);
    this.board = new SimBoard(init.options, performance.now());
    if (init.startMeter) this.board.restoreMeter(init.startMeter.import_Wh, init.startMeter.export_Wh);
    this.car = new Car(init.startPluggedIn ? { initial: "PLUGGED_IN" } : {});
    this.bench = init.bench === true;
  }

  drainHost(now: number): void {
    const port = this.port;
    for (let r = port.peek(); r !== null; r = port.peek()) {
      // Heartbeats wait in the ring until this step: the watchdog counts from when they were sent.
      const sent = port.sentAt();
      this.board.hostReport(r, r.length, sent < now ? sent : now);
      port.next();
    }
    this.board.sendDueState(now, this.send);
  }

  step(now: number): void {
    this.board.applyCar(this.car.step(this.board.carInputs()));
    this.board.step(now, this.send);
    this.out.countStep();
    this.mirror();
  }

  mirror(): void {
    const s = this.board.snapshot();
    const c = this.car.status();
    const view = this.view;
    view.cp = s.cp;
    view.pwm = s.pwm;
    view.relays = s.relays;
    view.phases = s.phases;
    view.locked = s.locked;
    view.weld = s.weld;
    view.rcd_mA = s.rcd_mA;
    view.energy_Wh = s.energy_Wh;
    view.power_W = s.power_W;
    view.current = s.current;
    view.voltage = s.voltage;
    view.carRunning = c.running;
    view.carState = Math.max(0, CAR_STATES.indexOf(c.state));
    view.carAck = this.acks;
    this.out.write(view);
  }
}

/** The stepping boards (bench-mode ones are driven by bench() instead). */
const units = new Map<number, SimUnit>();
const all = new Map<number, SimUnit>();
let bell: Doorbell | null = null;
let running = false;
let finished: Promise<void> = Promise.resolve();

async function run(): Promise<void> {
  let next = performance.now();
  while (running && units.size > 0) {
    const seen = bell!.value();
    let now = performance.now();
    for (const u of units.values()) u.drainHost(now);
    if (now >= next) {
      for (const u of units.values()) u.step(now);
      next += BOARD_STEP_MS;
      if (now - next > BOARD_STEP_MS) next = now + BOARD_STEP_MS; // after a stall, no catch-up burst
    }
    now = performance.now();
    const wait = bell!.wait(seen, Math.max(0, next - now));
    if (wait !== null) await wait;
  }
  running = false;
}

function unit(id: number): SimUnit {
  const u = all.get(id);
  if (u === undefined) throw new Error(`no simulated board ${id}`);
  return u;
}

const api = {
  start(init: SimThreadInit): void {
    if (all.has(init.id)) throw new Error(`the simulated board ${init.id} is already running`);
    if (bell === null) {
      try {
        setPriority(-10); // the simulated boards stand in for separate hardware: they must not starve
      } catch {
        // not permitted: normal priority
      }
    }
    bell = new Doorbell(init.link.boardBell);
    const u = new SimUnit(init);
    all.set(init.id, u);
    u.mirror();
    if (u.bench) return;
    units.set(init.id, u);
    if (!running) {
      running = true;
      finished = run();
    }
  },
  /** The host has parsed the script and checked "running" already; Car re-checks both. */
  postScript(id: number, script: string, replace: boolean): void {
    const u = unit(id);
    try {
      u.car.post(script, replace);
    } finally {
      u.acks++;
      u.mirror();
    }
  },
  stopScript(id: number): void {
    const u = unit(id);
    u.car.stop();
    u.acks++;
    u.mirror();
  },
  setWeldRelays(id: number, weld: boolean): void {
    const u = unit(id);
    u.board.setWeld(weld);
    u.mirror();
  },
  /** Bench mode only: C↔B toggles, returns reaction times in µs (sim clock). */
  bench(id: number, opts: BenchOptions): Float64Array {
    const u = unit(id);
    if (!u.bench) throw new Error("the simulated board was not started in bench mode");
    return runBench(bell!, u.board, u.port, opts);
  },
  /** Stops board `id`; the loop ends with the last one. */
  async stop(id: number): Promise<void> {
    all.delete(id);
    units.delete(id);
    if (units.size > 0 || bell === null) return;
    running = false;
    bell.ring();
    await finished;
  },
};

export type SimThreadApi = typeof api;

Comlink.expose(api);
