// The real-time worker's logic, free of threads so tests can drive it with a fake clock: it
// decodes input reports, runs the interlocks first, sends output reports when the outputs change
// and at the heartbeat period, keeps the latest board state in shared memory and turns changes
// into event-ring records in board order. Hot path rules: no allocation, logging, await or JSON;
// everything below works on preallocated objects and typed arrays.
import {
  BOARD_ERRORS,
  BoardErrorBit,
  errorBit,
  ControlFlag,
  CpMode,
  decodeInfo,
  decodeMeter,
  decodeState,
  DUTY_STEADY,
  emptyControl,
  emptyInfo,
  emptyMeter,
  emptyState,
  encodeControl,
  I16_ABSENT,
  Reject,
  REPORT_SIZE,
  ReportId,
  reportKind,
  StateFlag,
  type ControlReport,
} from "../board-protocol/index.ts";
import { limitDuty, powerTrip, Trip, type InterlockInput, type TripCode } from "./interlocks.ts";
import { CapabilitySlot, defaultRequested, emptyBoardView, InputKind, MAIN_SILENCE_MS, MeterSlot, TelemetrySlot, type Shm } from "./shm-layout.ts";
import type { Transport, TransportSink } from "./transport/transport.ts";

/** Output reports go out at least this often: the board's watchdog fires after 500 ms. */
export const HOST_HEARTBEAT_MS = 100;
/** A pass this long after the last output report sends the heartbeat already: it rides on a
 *  wake-up the worker has anyway (main's ping, a board report) instead of needing its own. */
const HEARTBEAT_EARLY_MS = 45;
/** The worker's own wake-up for the heartbeat comes this much before it is due (timer lateness). */
const HEARTBEAT_SLACK_MS = 5;
/** How often a report that found no device to write to is tried again. */
const NO_DEVICE_RETRY_MS = 20;
/** Without a STATE report for this long the board counts as not answering. */
export const BOARD_SILENCE_MS = 1000;

const CP_UNKNOWN = -1;
const RCD_ERROR_BITS = errorBit(BoardErrorBit.RcdDC) | errorBit(BoardErrorBit.RcdAC);
const DIODE_BIT = errorBit(BoardErrorBit.DiodeFault);

export class RtLoop implements TransportSink {
  readonly #shm: Shm;
  readonly #transport: Transport;
  readonly #now: () => number;

  readonly #req = defaultRequested();
  #reqSeq = -1;
  readonly #state = emptyState();
  readonly #meter = emptyMeter();
  readonly #info = emptyInfo();
  readonly #view = emptyBoardView();
  readonly #ctl: ControlReport = emptyControl();
  readonly #sent: ControlReport = emptyControl();
  readonly #tx = new Uint8Array(REPORT_SIZE);
  readonly #il: InterlockInput = {
    boardLink: false,
    cp: CP_UNKNOWN,
    diodeFault: false,
    rcdTripped: false,
    socket: false,
    ampacity: 0,
    mainSilentMs: 0,
    mainSilenceLimitMs: MAIN_SILENCE_MS,
  };

  #transportUp = false;
  #everLinked = false;
  #haveState = false;
  #lastStateAt = -Infinity;
  #lastTxAt = -Infinity;
  #neverSent = true;
  #mainBeat = -1;
  #mainBeatAt: number;
  #heartbeat = 0;
  #txSeq = 0;
  #prevCp = CP_UNKNOWN;
  #prevRelays = false;
  #prevErrors = 0;
  #trip: TripCode = Trip.BoardSilent;
  #stopped = false;
  /** Set by #react when changed outputs (not a heartbeat) went out: a reaction to measure. */
  #changedSent = false;
  /** Why the transport has no board ("" while it has one): shown in /healthz. */
  #linkError = "";

  constructor(shm: Shm, transport: Transport, now: () => number) {
    this.#shm = shm;
    this.#transport = transport;
    this.#now = now;
    this.#mainBeatAt = now();
    this.#sent.cpMode = 0xff; // nothing sent yet: the first pass always sends
  }

  start(): void {
    this.#transport.start(this);
    this.pass();
  }

  trip(): TripCode {
    return this.#trip;
  }

  /** A restarted worker takes over from a dead one: changes are diffed against what main last
   *  received (CP, relays, error bits), so e.g. relays opened by the board's watchdog while no
   *  worker ran still reach the kernel as PowerOff. Call before start(). */
  resumeFrom(cp: number, relays: boolean, errors: number): void {
    this.#prevCp = cp;
    this.#prevRelays = relays;
    this.#prevErrors = errors;
  }

  // ---- TransportSink ----------------------------------------------------------------------------
  link(up: boolean, detail: string): void {
    this.#transportUp = up;
    this.problem(up ? "" : detail);
    if (!up) {
      this.#haveState = false;
      this.#updateLink(this.#now());
    }
  }

  problem(message: string): void {
    if (message === this.#linkError) return;
    this.#linkError = message;
    this.#shm.writeText(this.#info.meterId, message);
  }

  report(bytes: Uint8Array, length: number): void {
    const now = this.#now();
    const kind = reportKind(bytes, length);
    if (kind < 0) {
      this.#shm.countRejected();
      return;
    }
    let r: number = Reject.None;
    switch (kind) {
      case ReportId.State:
        r = decodeState(bytes, this.#state);
        if (r !== Reject.None) break;
        this.#haveState = true;
        this.#lastStateAt = now;
        this.#shm.countRx();
        // Safety first: outputs for the new state go out before anything is published.
        this.#changedSent = false;
        this.#react(now);
        if (this.#changedSent) this.#shm.recordReaction((this.#now() - now) * 1000);
        this.#publishState();
        return;
      case ReportId.Meter:
        r = decodeMeter(bytes, this.#meter);
        if (r !== Reject.None) break;
        this.#shm.countRx();
        if (this.#everLinked) {
          this.#publishMeter();
          this.#publishTelemetry();
        }
        return;
      case ReportId.Info:
        r = decodeInfo(bytes, this.#info);
        if (r !== Reject.None) break;
        this.#shm.countRx();
        this.#shm.writeText(this.#info.meterId, this.#linkError); // for the powermeter's meter_id
        this.#react(now);
        this.#publishCapabilities();
        this.#writeView();
        return;
      default:
        r = Reject.UnknownId; // a CONTROL report travelling the wrong way
    }
    this.#shm.countRejected();
  }

  // ---- loop pass ---------------------------------------------------------------------------------
  /** One pass: reports waiting, requested outputs, silence checks, interlocks, heartbeat. */
  pass(): void {
    if (this.#stopped) return;
    this.#transport.poll();
    const now = this.#now();
    const seq = this.#shm.requestedSeq();
    if (seq !== this.#reqSeq && this.#shm.readRequested(this.#req)) this.#reqSeq = seq;
    const beat = this.#shm.mainHeartbeat();
    if (beat !== this.#mainBeat) {
      this.#mainBeat = beat;
      this.#mainBeatAt = now;
    }
    this.#updateLink(now);
    this.#react(now);
    this.#shm.beatWorker();
  }

  #updateLink(now: number): void {
    const up =
      this.#transportUp && this.#haveState && now - this.#lastStateAt < BOARD_SILENCE_MS && (this.#state.flags & StateFlag.HOST_WATCHDOG) === 0;
    if (up !== this.#view.link) {
      this.#view.link = up;
      this.#writeView();
    }
  }

  /** Interlocks, then the output report if it changed or the heartbeat is due. */
  #react(now: number): void {
    const s = this.#state;
    const il = this.#il;
    this.#updateLink(now);
    il.boardLink = this.#view.link;
    il.cp = this.#haveState ? s.cp : CP_UNKNOWN;
    il.diodeFault = (s.errors & DIODE_BIT) !== 0;
    il.rcdTripped = s.rcdTripped || (s.errors & RCD_ERROR_BITS) !== 0;
    il.socket = this.#info.socket;
    il.ampacity = s.ampacity;
    il.mainSilentMs = now - this.#mainBeatAt;
    const trip = powerTrip(il);
    if (trip !== this.#trip) {
      this.#trip = trip;
      this.#shm.setTrip(trip);
    }

    const req = this.#req;
    const c = this.#ctl;
    c.cpMode = req.cpMode;
    c.duty = req.cpMode === CpMode.PWM ? req.duty : DUTY_STEADY;
    if (req.cpMode === CpMode.PWM) {
      const d = limitDuty(req.duty, il.socket, il.ampacity, req.threePhases);
      if (d < 0) {
        c.cpMode = CpMode.X1;
        c.duty = DUTY_STEADY;
      } else c.duty = d;
    }
    // Board rule 2: relays close only with PWM running. A permission already given may outlive
    // PWM off (the kernel's 6 s C1 rule, behavior.md §7.1), but a new one needs PWM on.
    const held = (this.#sent.flags & ControlFlag.ALLOW_POWER_ON) !== 0;
    const allow = req.allow && trip === Trip.None && (c.cpMode === CpMode.PWM || held);
    c.flags = (req.enable ? ControlFlag.ENABLE : 0) | (allow ? ControlFlag.ALLOW_POWER_ON : 0) | (req.lock ? ControlFlag.LOCK : 0);
    c.reason = allow ? req.allowReason : 0;
    c.phases = req.threePhases ? 3 : 1;
    c.overcurrent = req.overcurrent;
    c.rcdSelfTest = req.rcdSelfTest & 0xff;
    c.rcdReset = req.rcdReset & 0xff;
    c.info = req.info & 0xff;

    if (this.#differs(c)) {
      if (this.#send(now, true)) this.#changedSent = true;
    } else if (this.#neverSent || now - this.#lastTxAt >= HEARTBEAT_EARLY_MS) this.#send(now);
  }

  /** How long the worker may sleep (ms) before a pass is due on its own: the heartbeat, or a
   *  silence limit (main's heartbeat, the board's reports) that a pass must notice when it runs
   *  out. Anything sooner (a request, a board report, main's ping) rings the doorbell. */
  msUntilDue(now: number): number {
    let due = this.#lastTxAt + HOST_HEARTBEAT_MS - HEARTBEAT_SLACK_MS;
    const mainSilent = this.#mainBeatAt + MAIN_SILENCE_MS;
    if (mainSilent > now && mainSilent < due) due = mainSilent;
    const boardSilent = this.#lastStateAt + BOARD_SILENCE_MS;
    if (this.#view.link && boardSilent > now && boardSilent < due) due = boardSilent;
    // Past due only when the last write found no device: try again in a while, not at once.
    return due > now ? due - now : NO_DEVICE_RETRY_MS;
  }

  #differs(c: ControlReport): boolean {
    const p = this.#sent;
    return (
      c.cpMode !== p.cpMode ||
      c.duty !== p.duty ||
      c.flags !== p.flags ||
      c.reason !== p.reason ||
      c.phases !== p.phases ||
      c.overcurrent !== p.overcurrent ||
      c.rcdSelfTest !== p.rcdSelfTest ||
      c.rcdReset !== p.rcdReset ||
      c.info !== p.info
    );
  }

  /** False when the transport had no device to write to. A report that repeats the last one is
   *  a heartbeat: not urgent, unless the board's watchdog holds it (it answers the next report
   *  with a STATE at once) or nothing has been sent yet. */
  #send(now: number, changed = false): boolean {
    const c = this.#ctl;
    this.#txSeq = (this.#txSeq + 1) & 0xffff;
    this.#heartbeat = (this.#heartbeat + 1) & 0xffff;
    c.seq = this.#txSeq;
    c.heartbeat = this.#heartbeat;
    encodeControl(c, this.#tx);
    const urgent = changed || this.#neverSent || !this.#view.link;
    if (!this.#transport.write(this.#tx, urgent)) return false; // no device: try again next pass
    this.#neverSent = false;
    this.#lastTxAt = now;
    this.#shm.countTx();
    const p = this.#sent;
    p.cpMode = c.cpMode;
    p.duty = c.duty;
    p.flags = c.flags;
    p.reason = c.reason;
    p.phases = c.phases;
    p.overcurrent = c.overcurrent;
    p.rcdSelfTest = c.rcdSelfTest;
    p.rcdReset = c.rcdReset;
    p.info = c.info;
    return true;
  }

  // ---- publication (event ring, board view) --------------------------------------------------
  #publishState(): void {
    const s = this.#state;
    const relays = (s.flags & StateFlag.RELAYS_CLOSED) !== 0;
    if (!this.#everLinked) {
      if (!this.#view.link) {
        this.#writeView();
        return;
      }
      this.#everLinked = true;
    }
    // Board order: the CP change first, then the relay change it caused, then error flags.
    if (s.cp !== this.#prevCp) {
      this.#prevCp = s.cp;
      this.#record2(InputKind.CpEvent, s.cp);
    }
    if (relays !== this.#prevRelays) {
      this.#prevRelays = relays;
      this.#record2(InputKind.PowerEvent, relays ? 1 : 0);
    }
    const changed = s.errors ^ this.#prevErrors;
    if (changed !== 0) {
      for (let bit = 0; bit < BOARD_ERRORS.length; bit++) {
        const m = 1 << bit;
        if ((changed & m) === 0) continue;
        this.#record2((s.errors & m) !== 0 ? InputKind.ErrorRaised : InputKind.ErrorCleared, bit);
      }
      this.#prevErrors = s.errors;
    }
    this.#writeView();
  }

  #writeView(): void {
    const v = this.#view;
    const s = this.#state;
    v.cp = this.#haveState ? s.cp : CP_UNKNOWN;
    v.relays = (s.flags & StateFlag.RELAYS_CLOSED) !== 0;
    v.ampacity = s.ampacity;
    v.socket = this.#info.socket;
    v.flags = s.flags;
    v.errors = s.errors;
    v.pwm = this.#haveState && s.cpMode === CpMode.PWM ? s.duty : -1;
    this.#shm.writeBoard(v);
  }

  #record2(kind: number, value: number): void {
    const o = this.#shm.eventSlot();
    if (o < 0) return;
    const e = this.#shm.events;
    e[o] = kind;
    e[o + 1] = value;
    this.#shm.publishEvent();
  }

  #publishMeter(): void {
    const o = this.#shm.eventSlot();
    if (o < 0) return;
    const e = this.#shm.events;
    const m = this.#meter;
    e[o] = InputKind.Meter;
    e[o + MeterSlot.IMPORT_TOTAL_Wh] = m.importTotal / 10;
    for (let k = 0; k < 3; k++) {
      e[o + MeterSlot.IMPORT_L1_Wh + k] = m.importL[k]! / 10;
      e[o + MeterSlot.POWER_L1_W + k] = m.powerL[k]!;
      e[o + MeterSlot.VOLTAGE_L1_V + k] = m.voltageL[k]! / 100;
      e[o + MeterSlot.FREQ_L1_Hz + k] = m.freqL[k]! / 1000;
    }
    for (let k = 0; k < 4; k++) e[o + MeterSlot.CURRENT_L1_A + k] = m.current[k]! / 100;
    e[o + MeterSlot.EXPORT_TOTAL_Wh] = m.exportTotal / 10;
    e[o + MeterSlot.TEMP_C] = m.temp / 10;
    e[o + MeterSlot.PHASE_SEQ_ERROR] = m.phaseSeqError ? 1 : 0;
    this.#shm.publishEvent();
  }

  #publishTelemetry(): void {
    const o = this.#shm.eventSlot();
    if (o < 0) return;
    const e = this.#shm.events;
    const s = this.#state;
    e[o] = InputKind.Telemetry;
    e[o + TelemetrySlot.EVSE_TEMP_C] = s.temp / 10;
    e[o + TelemetrySlot.FAN_RPM] = s.fanRpm;
    e[o + TelemetrySlot.SUPPLY_12V] = s.supply12_mV / 1000;
    e[o + TelemetrySlot.SUPPLY_MINUS_12V] = s.supplyMinus12_mV / 1000;
    e[o + TelemetrySlot.RELAIS_ON] = (s.flags & StateFlag.RELAYS_CLOSED) !== 0 ? 1 : 0;
    e[o + TelemetrySlot.PLUG_TEMP_C] = s.plugTemp === I16_ABSENT ? NaN : s.plugTemp / 10;
    this.#shm.publishEvent();
  }

  #publishCapabilities(): void {
    const o = this.#shm.eventSlot();
    if (o < 0) return;
    const e = this.#shm.events;
    const i = this.#info;
    e[o] = InputKind.Capabilities;
    e[o + CapabilitySlot.MAX_IMPORT_A] = i.maxImport / 10;
    e[o + CapabilitySlot.MIN_IMPORT_A] = i.minImport / 10;
    e[o + CapabilitySlot.MAX_PHASES_IMPORT] = i.maxPhasesImport;
    e[o + CapabilitySlot.MIN_PHASES_IMPORT] = i.minPhasesImport;
    e[o + CapabilitySlot.MAX_EXPORT_A] = i.maxExport / 10;
    e[o + CapabilitySlot.MIN_EXPORT_A] = i.minExport / 10;
    e[o + CapabilitySlot.MAX_PHASES_EXPORT] = i.maxPhasesExport;
    e[o + CapabilitySlot.MIN_PHASES_EXPORT] = i.minPhasesExport;
    e[o + CapabilitySlot.PHASE_SWITCHING] = i.phaseSwitching ? 1 : 0;
    e[o + CapabilitySlot.SOCKET] = i.socket ? 1 : 0;
    e[o + CapabilitySlot.MAX_PLUG_TEMP_C] = i.maxPlugTemp === I16_ABSENT ? NaN : i.maxPlugTemp / 10;
    this.#shm.publishEvent();
  }

  /** Opens the relays and stops asking for anything (shutdown); sends at once. */
  safeStop(): void {
    const r = this.#req;
    r.allow = false;
    this.#stopped = true; // never re-read main's request after this
    this.#neverSent = true;
    this.#react(this.#now());
  }
}
