// Thread entry of the simulated board (built as its own entry point: keep this path). It drives
// the pure SimBoard every 250 ms with the car stepped first, answers output reports as they
// arrive, and mirrors its state into shared memory for GET …/sim. Control calls (car scripts,
// weld switch, bench) arrive through comlink.
import * as Comlink from "comlink";
import { setPriority } from "node:os";
import { Car } from "../car/index.ts";
import { CAR_STATES, emptySimView, Shm, type SimView } from "../../rt-worker/shm-layout.ts";
import { SimBoardPort } from "../../rt-worker/transport/sim.ts";
import { BOARD_STEP_MS, SimBoard, type SimBoardOptions } from "./physics.ts";
import { runBench, type BenchOptions } from "./bench-mode.ts";

export interface SimThreadInit {
  sab: SharedArrayBuffer;
  options: SimBoardOptions;
  /** keep_plug_state_across_restart: start with the car plugged in (PLUGGED_IN, CP B). */
  startPluggedIn?: boolean;
  /** Bench mode: no steps and no car; the bench drives the board through bench(). */
  bench?: boolean;
}

let shm: Shm | null = null;
let board: SimBoard | null = null;
let car: Car | null = null;
let port: SimBoardPort | null = null;
let running = false;
let benchMode = false;
let acks = 0;
let finished: Promise<void> = Promise.resolve();
const view: SimView = emptySimView();

const send = (report: Uint8Array) => port!.send(report);

function drainHost(now: number): void {
  for (let r = port!.peek(); r !== null; r = port!.peek()) {
    // Heartbeats wait in the ring until this step: the watchdog counts from when they were sent.
    const sent = port!.sentAt();
    board!.hostReport(r, r.length, sent < now ? sent : now);
    port!.next();
  }
  board!.sendDueState(now, send);
}

function mirror(): void {
  const s = board!.snapshot();
  const c = car!.status();
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
  view.carAck = acks;
  shm!.writeSim(view);
}

async function run(): Promise<void> {
  const s = shm!;
  let next = performance.now();
  while (running) {
    const seen = s.simDoorbell();
    let now = performance.now();
    drainHost(now);
    if (now >= next) {
      board!.applyCar(car!.step(board!.carInputs()));
      board!.step(now, send);
      s.countSimStep();
      mirror();
      next += BOARD_STEP_MS;
      if (now - next > BOARD_STEP_MS) next = now + BOARD_STEP_MS; // after a stall, no catch-up burst
    }
    now = performance.now();
    const wait = s.waitSimDoorbell(seen, Math.max(0, next - now));
    if (wait !== null) await wait;
  }
}

const api = {
  start(init: SimThreadInit): void {
    if (running) throw new Error("the simulated board is already running");
    shm = new Shm(init.sab);
    try {
      setPriority(-10); // the simulated board stands in for separate hardware: it must not starve
    } catch {
      // not permitted: normal priority
    }
    port = new SimBoardPort(shm);
    board = new SimBoard(init.options, performance.now());
    car = new Car(init.startPluggedIn ? { initial: "PLUGGED_IN" } : {});
    benchMode = init.bench === true;
    mirror();
    if (benchMode) return;
    running = true;
    finished = run();
  },
  /** The host has parsed the script and checked "running" already; Car re-checks both. */
  postScript(script: string, replace: boolean): void {
    try {
      car!.post(script, replace);
    } finally {
      acks++;
      mirror();
    }
  },
  stopScript(): void {
    car!.stop();
    acks++;
    mirror();
  },
  setWeldRelays(weld: boolean): void {
    board!.setWeld(weld);
    mirror();
  },
  /** Bench mode only: C↔B toggles, returns reaction times in µs (sim clock). */
  bench(opts: BenchOptions): Float64Array {
    if (!benchMode) throw new Error("the simulated board was not started in bench mode");
    return runBench(shm!, board!, port!, opts);
  },
  async stop(): Promise<void> {
    running = false;
    shm?.ringSim();
    await finished;
  },
};

export type SimThreadApi = typeof api;

Comlink.expose(api);
