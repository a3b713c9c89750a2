// What a simulated board shows GET …/sim: its state, written by the sim thread after every step
// and control call, read by the main thread (boards.ts). Its own small shared buffer, a seqlock
// like the worker's: the single writer makes the sequence odd, writes, makes it even; a reader
// retries and otherwise keeps what it had. Numbers only; main builds the JSON.
import type { CarStateName } from "../car/index.ts";

/** Car-state names as codes (SimView.carState). */
export const CAR_STATES: readonly CarStateName[] = ["UNPLUGGED", "PLUGGED_IN", "CHARGING_REGULATED", "CHARGING_FIXED", "ERROR_E", "DIODE_FAIL"];

const I = {
  SEQ: 0,
  CP: 1, // CpState code last reported
  PWM: 2, // 0.01 %, -1 = steady (no PWM)
  RELAYS: 3,
  PHASES: 4, // 1 or 3
  LOCKED: 5,
  CAR_RUNNING: 6,
  CAR_STATE: 7, // index into CAR_STATES
  CAR_ACK: 8, // script posts/stops the sim thread has applied
  WELD: 9,
  STEPS: 10, // physics steps done
  COUNT: 12,
} as const;
const F = { RCD_mA: 0, ENERGY_Wh: 1, POWER_W: 2, I1: 3, V1: 6, COUNT: 9 } as const;
const F_OFFSET = I.COUNT * 4;
export const SIM_VIEW_BYTES = F_OFFSET + F.COUNT * 8;
const SEQLOCK_TRIES = 32;

export interface SimView {
  cp: number;
  pwm: number;
  relays: boolean;
  phases: number;
  locked: boolean;
  carRunning: boolean;
  carState: number;
  carAck: number;
  weld: boolean;
  rcd_mA: number;
  energy_Wh: number;
  power_W: number;
  current: [number, number, number];
  voltage: [number, number, number];
}

export function emptySimView(): SimView {
  return {
    cp: 0,
    pwm: -1,
    relays: false,
    phases: 3,
    locked: false,
    carRunning: false,
    carState: 0,
    carAck: 0,
    weld: false,
    rcd_mA: 0,
    energy_Wh: 0,
    power_W: 0,
    current: [0, 0, 0],
    voltage: [0, 0, 0],
  };
}

export class SimViewBuffer {
  readonly sab: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.#i32 = new Int32Array(sab, 0, I.COUNT);
    this.#f64 = new Float64Array(sab, F_OFFSET, F.COUNT);
  }

  /** A fresh buffer showing an empty board (main, before the sim thread writes it). */
  static create(): SimViewBuffer {
    const view = new SimViewBuffer(new SharedArrayBuffer(SIM_VIEW_BYTES));
    view.write(emptySimView());
    return view;
  }

  /** [sim] */
  write(s: SimView): void {
    const a = this.#i32;
    const f = this.#f64;
    Atomics.add(a, I.SEQ, 1);
    Atomics.store(a, I.CP, s.cp);
    Atomics.store(a, I.PWM, s.pwm);
    Atomics.store(a, I.RELAYS, s.relays ? 1 : 0);
    Atomics.store(a, I.PHASES, s.phases);
    Atomics.store(a, I.LOCKED, s.locked ? 1 : 0);
    Atomics.store(a, I.CAR_RUNNING, s.carRunning ? 1 : 0);
    Atomics.store(a, I.CAR_STATE, s.carState);
    Atomics.store(a, I.CAR_ACK, s.carAck);
    Atomics.store(a, I.WELD, s.weld ? 1 : 0);
    f[F.RCD_mA] = s.rcd_mA;
    f[F.ENERGY_Wh] = s.energy_Wh;
    f[F.POWER_W] = s.power_W;
    for (let k = 0; k < 3; k++) {
      f[F.I1 + k] = s.current[k]!;
      f[F.V1 + k] = s.voltage[k]!;
    }
    Atomics.add(a, I.SEQ, 1);
  }

  read(out: SimView): boolean {
    const a = this.#i32;
    const f = this.#f64;
    for (let t = 0; t < SEQLOCK_TRIES; t++) {
      const s1 = Atomics.load(a, I.SEQ);
      if (s1 & 1) continue;
      const cp = Atomics.load(a, I.CP);
      const pwm = Atomics.load(a, I.PWM);
      const relays = Atomics.load(a, I.RELAYS);
      const phases = Atomics.load(a, I.PHASES);
      const locked = Atomics.load(a, I.LOCKED);
      const running = Atomics.load(a, I.CAR_RUNNING);
      const carState = Atomics.load(a, I.CAR_STATE);
      const ack = Atomics.load(a, I.CAR_ACK);
      const weld = Atomics.load(a, I.WELD);
      const rcd = f[F.RCD_mA]!;
      const energy = f[F.ENERGY_Wh]!;
      const power = f[F.POWER_W]!;
      const i1 = f[F.I1]!, i2 = f[F.I1 + 1]!, i3 = f[F.I1 + 2]!;
      const v1 = f[F.V1]!, v2 = f[F.V1 + 1]!, v3 = f[F.V1 + 2]!;
      if (Atomics.load(a, I.SEQ) !== s1) continue;
      out.cp = cp;
      out.pwm = pwm;
      out.relays = relays === 1;
      out.phases = phases;
      out.locked = locked === 1;
      out.carRunning = running === 1;
      out.carState = carState;
      out.carAck = ack;
      out.weld = weld === 1;
      out.rcd_mA = rcd;
      out.energy_Wh = energy;
      out.power_W = power;
      out.current = [i1, i2, i3];
      out.voltage = [v1, v2, v3];
      return true;
    }
    return false;
  }

  steps(): number {
    return Atomics.load(this.#i32, I.STEPS);
  }
  /** [sim] */
  countStep(): void {
    Atomics.add(this.#i32, I.STEPS, 1);
  }
}
