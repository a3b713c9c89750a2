// The simulated charge-controller board (simulation.md §2 with the binding fixes of §5 items 3-6)
// as a pure step machine: the caller passes the time, feeds host reports and car outputs, and
// collects the report bytes the board sends. No timers, no threads: tests drive it directly.
// It speaks exactly the bytes of docs/board-protocol.md, and it enforces the board's own
// safety rules (relays open on C→B/A/E/F, diode fault, RCD trip, PP loss; CP F and relays open
// when the host is silent for 500 ms), so the worker cannot tell it from real firmware.
import type { CarInputs, CarOutputs } from "../car/index.ts";
import {
  AMPACITIES,
  BoardErrorBit,
  Cp as CP,
  CpMode as MODE,
  DUTY_STEADY,
  ControlFlag,
  decodeControl,
  emptyControl,
  emptyInfo,
  emptyMeter,
  emptyState,
  encodeInfo,
  encodeMeter,
  encodeState,
  I16_ABSENT,
  LockState,
  PP_OPEN,
  Reject,
  ReportId,
  reportKind,
  StateFlag,
  type AmpacityName,
} from "../../board-protocol/index.ts";
import type { SimOptions } from "../../board-protocol/index.ts";
import { ampsForDuty } from "../../core/pwm.ts";
import { inHlcWindow } from "./duty.ts";
import { ppAmpacityCode } from "./pp.ts";
import { seededRandom } from "./rng.ts";

export const BOARD_STEP_MS = 250;
/** The board's host watchdog (docs/board-protocol.md §5). */
export const HOST_WATCHDOG_MS = 500;
/** RCD trip threshold (simulation.md §2.8). */
export const RCD_TRIP_mA = 5;
export const DEFAULT_RCD_mA = 0.1;
export const FIRMWARE_VERSION = [1, 0, 0] as const;
export const SIM_METER_ID = "SIM_POWERMETER";

/** The `sim.*` options the board itself uses (keep_plug_state_across_restart is main's). */
export type SimBoardOptions = Omit<SimOptions, "keep_plug_state_across_restart">;

const CP_LEVEL_V: Record<string, number> = { A: 12, B: 9, C: 6, D: 3 };
const near = (v: number, centre: number) => v > centre - 1.1 && v < centre + 1.1;

export type ReportSink = (report: Uint8Array) => void;

export class SimBoard {
  readonly opts: SimBoardOptions;
  readonly #rand: () => number;
  readonly #buf = new Uint8Array(64);
  #bootAt: number;

  // host side (from CONTROL reports)
  #enabled = true;
  #mode: number = MODE.X1; // what the board generates
  #duty = DUTY_STEADY; // 0.01 %, what the board generates
  #hostMode = -1; // last requested cp mode/duty, to apply changes only (upstream acts on commands)
  #hostDuty = -1;
  #allowed = false;
  #useThree = true;
  #useThreeConfirmed = true;
  #locked = false;
  #rcdSelfTestSeen = -1;
  #rcdResetSeen = -1;
  #infoSeen = -1;
  #hostSeq = 0;
  #hostRejected = 0;
  #lastHostAt = -Infinity;
  #watchdog = true; // no host yet: relays open, CP F
  /** The watchdog let go: the host learns it from a STATE report at once, not at the next step. */
  #stateDue = false;

  // car side
  #carCp: CarOutputs["cp"] = "A";
  #diodeFail = false;
  #evMaxA = 0;
  #evPhases = 3;
  #rcdSet = DEFAULT_RCD_mA;
  #lastCar: CarOutputs | null = null;

  // measured / derived
  #noise = 1;
  #cpHigh = 12;
  #cpLow = 12;
  #state: number = CP.F;
  #relays = false;
  #weld: boolean;
  #diodeFault = false;
  #rcdTripped = false;
  #rcdMeasured = DEFAULT_RCD_mA;
  readonly #iSet = [0, 0, 0];
  #nSet = 0;
  readonly #i = [0, 0, 0, 0];
  readonly #v = [230, 230, 230];
  readonly #f = [50, 50, 50];
  readonly #p = [0, 0, 0];
  readonly #importWh = [0, 0, 0];
  readonly #exportWh = [0, 0, 0];
  #meterAt: number | null = null;
  #temp = 25;
  #steps = 0;
  #infoDue = true; // INFO goes out at boot

  readonly #st = emptyState();
  readonly #mt = emptyMeter();
  readonly #inf = emptyInfo();
  readonly #ctl = emptyControl();
  #stSeq = 0;
  #mtSeq = 0;
  #infSeq = 0;
  /** Switching counter, like the telemetry counter of upstream. */
  relaySwitches = 0;

  constructor(opts: SimBoardOptions, now: number) {
    this.opts = opts;
    this.#rand = seededRandom(opts.seed ?? 0x5eed);
    this.#weld = opts.weld_relays;
    this.#bootAt = now;
  }

  // ---- host reports --------------------------------------------------------------------------
  /** Applies one CONTROL report; invalid ones are counted and change nothing (not even the watchdog). */
  hostReport(bytes: Uint8Array, length: number, now: number): boolean {
    const kind = reportKind(bytes, length);
    if (kind !== ReportId.Control || decodeControl(bytes, this.#ctl) !== Reject.None) {
      this.#hostRejected++;
      return false;
    }
    const c = this.#ctl;
    this.#lastHostAt = now;
    this.#hostSeq = c.seq;
    const wasTripped = this.#watchdog;
    this.#watchdog = false;
    if (wasTripped) this.#stateDue = true;
    this.#enabled = (c.flags & ControlFlag.ENABLE) !== 0;
    // CP output: applied when the request changes (or when the watchdog lets go), so the board's
    // own "X1 in state A" stays until the host asks again, as upstream's commands do.
    if (wasTripped || c.cpMode !== this.#hostMode || (c.cpMode === MODE.PWM && c.duty !== this.#hostDuty)) {
      this.#hostMode = c.cpMode;
      this.#hostDuty = c.duty;
      this.#mode = c.cpMode;
      this.#duty = c.cpMode === MODE.PWM ? c.duty : DUTY_STEADY;
    }
    this.#allowed = (c.flags & ControlFlag.ALLOW_POWER_ON) !== 0;
    const three = c.phases === 3;
    if (three !== this.#useThree) {
      this.#useThree = three;
      this.#useThreeConfirmed = three;
    }
    this.#locked = (c.flags & ControlFlag.LOCK) !== 0;
    if (this.#rcdResetSeen !== -1 && c.rcdReset !== this.#rcdResetSeen && this.#rcdMeasured <= RCD_TRIP_mA) this.#rcdTripped = false;
    this.#rcdResetSeen = c.rcdReset;
    this.#rcdSelfTestSeen = c.rcdSelfTest; // the simulated RCD always passes its self-test
    if (this.#infoSeen !== -1 && c.info !== this.#infoSeen) this.#infoDue = true;
    this.#infoSeen = c.info;
    return true;
  }

  /** The last accepted host report allowed power on. */
  hostAllows(): boolean {
    return this.#allowed;
  }

  relaysClosed(): boolean {
    return this.#relays;
  }

  hostRejected(): number {
    return this.#hostRejected;
  }

  // ---- car ------------------------------------------------------------------------------------
  /** What the car measures (upstream bsp_measurement), before its step. */
  carInputs(): CarInputs {
    const pwm = this.#mode === MODE.PWM && !this.#forcedF();
    return {
      pwm_duty_percent: pwm ? this.#duty / 100 : 100,
      pp_ampacity: AMPACITIES[ppAmpacityCode(this.opts.pp_resistor_ohm)]!,
      rcd_current_mA: this.#rcdMeasured,
      evse_state_F: this.#forcedF() || this.#mode === MODE.F,
    };
  }

  /** Applies the car's outputs; like upstream's commands, only changes act (the RCD set value
   *  is reset by the board on unplug and must not be re-applied every step). */
  applyCar(out: CarOutputs): void {
    const prev = this.#lastCar;
    if (prev === null || out.cp !== prev.cp) this.#carCp = out.cp;
    if (prev === null || out.diode_fail !== prev.diode_fail) this.#diodeFail = out.diode_fail;
    if (prev === null || out.ev_max_current_A !== prev.ev_max_current_A) this.#evMaxA = out.ev_max_current_A;
    if (prev === null || out.three_phases !== prev.three_phases) this.#evPhases = out.three_phases ? 3 : 1;
    if (prev === null || out.rcd_current_mA !== prev.rcd_current_mA) this.#rcdSet = out.rcd_current_mA;
    this.#lastCar = { ...out };
  }

  setWeld(weld: boolean): void {
    this.#weld = weld;
  }

  /** Sends the STATE report a host report made due (firmware answers a cleared watchdog at once,
   *  so the host's link comes up without waiting for the next 250 ms step). */
  sendDueState(now: number, send: ReportSink): void {
    if (!this.#stateDue) return;
    this.#stateDue = false;
    // The CP was held at F by the watchdog: read it again with the host's output first.
    const prev = this.#state;
    this.#readCp();
    this.#relayRules(prev);
    this.#sendState(now, send);
  }

  // ---- the 250 ms step ------------------------------------------------------------------------
  /** One board step (upstream order: RCD → CP read → relay rules → noise → meter → publish). */
  step(now: number, send: ReportSink): void {
    this.#steps++;
    if (!this.#watchdog && now - this.#lastHostAt > HOST_WATCHDOG_MS) this.#watchdog = true;
    this.#checkRcd();
    const prev = this.#state;
    this.#readCp();
    const plugIn = prev === CP.A && this.#state === CP.B;
    this.#relayRules(prev);
    this.#addNoise();
    if (plugIn) this.#resetMeter();
    this.#integrate(now);
    if (plugIn) this.#sendMeter(send); // a fresh reading before `B` (§5 item 4)
    if (this.#infoDue) {
      this.#infoDue = false;
      this.#sendInfo(send);
    }
    this.#stateDue = false;
    this.#sendState(now, send);
    if (this.#steps % 2 === 0 && !plugIn) this.#sendMeter(send);
  }

  /** Bench mode: CP read and relay rules only, at once (no meter, no noise), STATE sent. */
  fastStep(now: number, send: ReportSink): void {
    const prev = this.#state;
    this.#noise = 1;
    this.#readCp();
    this.#relayRules(prev);
    this.#sendState(now, send);
  }

  #forcedF(): boolean {
    return this.#watchdog || !this.#enabled;
  }

  #checkRcd(): void {
    this.#rcdMeasured = this.#rcdSet * this.#noise;
    if (this.#rcdMeasured > RCD_TRIP_mA) this.#rcdTripped = true;
    else this.#rcdTripped = false;
  }

  #readCp(): void {
    const pwm = this.#mode === MODE.PWM;
    if (this.#forcedF() || this.#mode === MODE.F) {
      this.#cpHigh = this.#cpLow = -12;
    } else if (this.#carCp === "E") {
      this.#cpHigh = this.#cpLow = 0;
    } else {
      const level = CP_LEVEL_V[this.#carCp]! * this.#noise;
      this.#cpHigh = level;
      this.#cpLow = pwm ? -12 : level;
      if (this.#diodeFail) this.#cpLow = -this.#cpHigh;
    }
    const hi = this.#cpHigh;
    const lo = this.#cpLow;
    const pwmRunning = pwm && !this.#forcedF();
    if (pwmRunning && !near(lo, -12)) {
      if (near(hi, 0) && near(lo, 0)) {
        this.#state = CP.E;
        return;
      }
      if (near(hi + lo, 0)) {
        this.#diodeFault = true; // the state is not changed (upstream)
        return;
      }
    }
    if (near(hi, 12)) {
      this.#state = CP.A;
      this.#diodeFault = false;
    } else if (near(hi, 9)) this.#state = CP.B;
    else if (near(hi, 6)) this.#state = CP.C;
    else if (near(hi, 3)) this.#state = CP.D;
    else if (near(hi, -12)) this.#state = CP.F;
  }

  #ppLost(): boolean {
    return this.opts.connector_type === "IEC62196Type2Socket" && ppAmpacityCode(this.opts.pp_resistor_ohm) === 0;
  }

  #relayRules(prev: number): void {
    const s = this.#state;
    let on = this.#relays;
    switch (s) {
      case CP.A:
        this.#useThreeConfirmed = this.#useThree;
        this.#mode = MODE.X1; // no PWM without a car
        this.#duty = DUTY_STEADY;
        on = false;
        if (prev !== CP.A && prev !== CP.F) {
          this.#rcdSet = DEFAULT_RCD_mA;
          this.#rcdTripped = false;
        }
        break;
      case CP.B:
        // Closed relays in B are always due to open (C→B; upstream only ever closes in C/D).
        on = false;
        break;
      case CP.C:
      case CP.D:
        // D charges like C (§5 item 4): ventilation is the kernel's decision.
        if (this.#mode === MODE.PWM && this.#allowed) on = true;
        break;
      case CP.E:
        on = false;
        this.#mode = MODE.X1;
        this.#duty = DUTY_STEADY;
        break;
      case CP.F:
        on = false;
        break;
    }
    // The board's own safety rules, whatever the host asked for.
    if (!this.#allowed || this.#diodeFault || this.#rcdTripped || this.#ppLost() || this.#forcedF()) on = false;
    this.#switch(on);
  }

  #switch(on: boolean): void {
    if (on === this.#relays) return;
    if (!on && this.#weld) return; // welded contacts stay closed
    this.#relays = on;
    this.relaySwitches++;
  }

  #addNoise(): void {
    this.#noise = 1 + (this.#rand() - 0.5) * 0.02;
    const fNoise = 1 + (this.#rand() - 0.5) * 0.005;
    // Demanded current (§2.4/§2.5): only in C/D; min(PWM amps, EV max), HLC window takes EV max.
    const s = this.#state;
    let amps = 0;
    if (s === CP.C || s === CP.D) {
      const d = this.#mode === MODE.PWM ? this.#duty / 100 : 100;
      if (inHlcWindow(d)) amps = this.#evMaxA;
      else if (this.#evMaxA === 0) amps = ampsForDuty(d);
      else amps = Math.min(ampsForDuty(d), Math.abs(this.#evMaxA)) * (this.#evMaxA < 0 ? -1 : 1);
    }
    const r = this.#relays;
    this.#iSet[0] = r ? amps : 0;
    this.#iSet[1] = r && this.#evPhases >= 2 && this.#useThreeConfirmed ? amps : 0;
    this.#iSet[2] = r && this.#evPhases >= 3 && this.#useThreeConfirmed ? amps : 0;
    this.#nSet = s === CP.C || s === CP.D ? 0.2 : 0;
    for (let k = 0; k < 3; k++) {
      this.#i[k] = this.#iSet[k]! * this.#noise;
      this.#v[k] = 230 * this.#noise - 0.5 * this.#i[k]!;
      this.#f[k] = 50 * fNoise;
    }
    this.#i[3] = this.#nSet * this.#noise;
  }

  /** Start-up only: the accumulators where the previous process left them (Wh per phase), so a
   *  restart without a plug-in does not take the reading back to 0. The next A→B resets as usual. */
  restoreMeter(importWh: readonly number[], exportWh: readonly number[]): void {
    for (let k = 0; k < 3; k++) {
      const imp = importWh[k] ?? 0;
      const exp = exportWh[k] ?? 0;
      this.#importWh[k] = Number.isFinite(imp) && imp > 0 ? imp : 0;
      this.#exportWh[k] = Number.isFinite(exp) && exp > 0 ? exp : 0;
    }
  }

  #resetMeter(): void {
    for (let k = 0; k < 3; k++) {
      this.#importWh[k] = 0;
      this.#exportWh[k] = 0;
    }
    this.#meterAt = null;
  }

  #integrate(now: number): void {
    const dt = this.#meterAt === null ? 0 : now - this.#meterAt;
    this.#meterAt = now;
    const r = this.#relays;
    let total = 0;
    for (let k = 0; k < 3; k++) {
      const gated = k === 0 ? r : r && this.#useThreeConfirmed;
      const p = gated ? this.#v[k]! * this.#i[k]! : 0;
      this.#p[k] = p;
      total += p;
      const wh = (p * dt) / 3_600_000;
      if (this.#i[0]! >= 0) this.#importWh[k]! += wh;
      else this.#exportWh[k]! += Math.abs(wh);
    }
    this.#temp = 25 + Math.abs(total) * 0.003;
  }

  #sendState(now: number, send: ReportSink): void {
    const s = this.#st;
    this.#stSeq = (this.#stSeq + 1) & 0xffff;
    s.seq = this.#stSeq;
    s.cp = this.#state;
    s.cpMode = this.#forcedF() ? MODE.F : this.#mode;
    s.cpHigh_mV = this.#cpHigh * 1000;
    s.cpLow_mV = this.#cpLow * 1000;
    s.duty = s.cpMode === MODE.PWM ? this.#duty : DUTY_STEADY;
    s.flags =
      (this.#relays ? StateFlag.RELAYS_CLOSED : 0) |
      (this.#watchdog ? StateFlag.HOST_WATCHDOG : 0) |
      (this.#useThreeConfirmed ? StateFlag.THREE_PHASES : 0) |
      (this.#enabled ? StateFlag.ENABLED : 0);
    const socket = this.opts.connector_type === "IEC62196Type2Socket";
    s.ampacity = socket ? ppAmpacityCode(this.opts.pp_resistor_ohm) : 0;
    s.pp = socket ? this.opts.pp_resistor_ohm * this.#noise * 10 : PP_OPEN;
    s.lock = this.#locked ? LockState.Locked : LockState.Unlocked;
    s.rcdTripped = this.#rcdTripped;
    s.rcd = this.#rcdMeasured * 100;
    s.temp = this.#temp * 10;
    s.errors = (this.#diodeFault ? 1 << BoardErrorBit.DiodeFault : 0) | (this.#rcdTripped ? 1 << BoardErrorBit.RcdDC : 0);
    s.fanRpm = 1500;
    s.supply12_mV = 12010;
    s.supplyMinus12_mV = -11800;
    s.plugTemp = I16_ABSENT;
    s.hostSeqEcho = this.#hostSeq;
    s.hostRejected = this.#hostRejected;
    s.uptimeMs = now - this.#bootAt;
    s.fwMajor = FIRMWARE_VERSION[0];
    s.fwMinor = FIRMWARE_VERSION[1];
    s.fwPatch = FIRMWARE_VERSION[2];
    encodeState(s, this.#buf);
    send(this.#buf);
  }

  #sendMeter(send: ReportSink): void {
    const m = this.#mt;
    this.#mtSeq = (this.#mtSeq + 1) & 0xffff;
    m.seq = this.#mtSeq;
    let imp = 0;
    let exp = 0;
    for (let k = 0; k < 3; k++) {
      imp += this.#importWh[k]!;
      exp += this.#exportWh[k]!;
      m.importL[k] = this.#importWh[k]! * 10;
      m.powerL[k] = this.#p[k]!;
      m.voltageL[k] = this.#v[k]! * 100;
      m.freqL[k] = this.#f[k]! * 1000;
    }
    for (let k = 0; k < 4; k++) m.current[k] = this.#i[k]! * 100;
    m.importTotal = imp * 10;
    m.exportTotal = exp * 10;
    m.temp = this.#temp * 10;
    m.phaseSeqError = false;
    encodeMeter(m, this.#buf);
    send(this.#buf);
  }

  #sendInfo(send: ReportSink): void {
    const i = this.#inf;
    this.#infSeq = (this.#infSeq + 1) & 0xffff;
    i.seq = this.#infSeq;
    // 2025.1.0 capabilities of §5 item 3.
    i.maxImport = this.opts.max_current_A_import * 10;
    i.minImport = 60;
    i.maxPhasesImport = 3;
    i.minPhasesImport = 1;
    i.maxExport = 160;
    i.minExport = 0;
    i.maxPhasesExport = 3;
    i.minPhasesExport = 1;
    i.phaseSwitching = true;
    i.socket = this.opts.connector_type === "IEC62196Type2Socket";
    i.maxPlugTemp = I16_ABSENT;
    [i.fwMajor, i.fwMinor, i.fwPatch] = FIRMWARE_VERSION;
    i.meterId = SIM_METER_ID;
    encodeInfo(i, this.#buf);
    send(this.#buf);
  }

  // ---- what GET …/sim shows ---------------------------------------------------------------------
  snapshot(): {
    cp: number;
    pwm: number;
    relays: boolean;
    phases: number;
    locked: boolean;
    weld: boolean;
    watchdog: boolean;
    diodeFault: boolean;
    rcdTripped: boolean;
    rcd_mA: number;
    energy_Wh: number;
    power_W: number;
    current: [number, number, number];
    voltage: [number, number, number];
  } {
    const imp = this.#importWh[0]! + this.#importWh[1]! + this.#importWh[2]!;
    return {
      cp: this.#state,
      pwm: this.#mode === MODE.PWM && !this.#forcedF() ? this.#duty : -1,
      relays: this.#relays,
      phases: this.#useThreeConfirmed ? 3 : 1,
      locked: this.#locked,
      weld: this.#weld,
      watchdog: this.#watchdog,
      diodeFault: this.#diodeFault,
      rcdTripped: this.#rcdTripped,
      rcd_mA: this.#rcdMeasured,
      energy_Wh: Math.round(imp),
      power_W: Math.round(this.#p[0]!) + Math.round(this.#p[1]!) + Math.round(this.#p[2]!),
      current: [this.#i[0]!, this.#i[1]!, this.#i[2]!],
      voltage: [this.#v[0]!, this.#v[1]!, this.#v[2]!],
    };
  }

  ampacity(): AmpacityName {
    return AMPACITIES[ppAmpacityCode(this.opts.pp_resistor_ohm)]!;
  }
}
