// The USB-HID report codec of docs/board-protocol.md: 64-byte reports, little-endian. Decoders
// fill caller-owned objects and return a reject reason instead of throwing, so the real-time
// loop decodes without allocating and a malformed report is counted, never fatal.
import { REPORT_SIZE } from "./shm-layout.ts";

export const PROTOCOL_VERSION = 1;

export const ReportId = {
  /** board → host: CP, relays, PP, lock, RCD, housekeeping. On every change and every 250 ms. */
  State: 0x01,
  /** board → host: meter readings, every 500 ms (and once before a plug-in `B`). */
  Meter: 0x02,
  /** board → host: capabilities and identity; at boot and when the host asks. */
  Info: 0x03,
  /** host → board: requested outputs and heartbeat. */
  Control: 0x10,
} as const;

/** Why a report was refused (0 = accepted). */
export const Reject = {
  None: 0,
  Short: 1,
  UnknownId: 2,
  Version: 3,
  OutOfRange: 4,
} as const;
export type RejectCode = (typeof Reject)[keyof typeof Reject];

/** STATE flags (byte 12). */
export const StateFlag = {
  RELAYS_CLOSED: 1 << 0,
  /** The board has not seen a valid host report for 500 ms: relays open, CP F. */
  HOST_WATCHDOG: 1 << 1,
  THREE_PHASES: 1 << 2,
  ENABLED: 1 << 3,
} as const;

/** Lock state (byte 16). */
export const LockState = { Unlocked: 0, Locked: 1, Moving: 2 } as const;

/** CONTROL flags (byte 7). */
export const ControlFlag = {
  ENABLE: 1 << 0,
  ALLOW_POWER_ON: 1 << 1,
  LOCK: 1 << 2,
} as const;

/** Absent value of signed 16-bit optional temperatures. */
export const I16_ABSENT = -32768;
/** PP resistance when no resistor is measured (open). */
export const PP_OPEN = 0xffff;

export interface StateReport {
  seq: number;
  cp: number;
  cpMode: number;
  cpHigh_mV: number;
  cpLow_mV: number;
  /** 0.01 %. */
  duty: number;
  flags: number;
  ampacity: number;
  /** 0.1 Ω, PP_OPEN = none. */
  pp: number;
  lock: number;
  rcdTripped: boolean;
  /** 0.01 mA. */
  rcd: number;
  /** 0.1 °C. */
  temp: number;
  errors: number;
  fanRpm: number;
  supply12_mV: number;
  supplyMinus12_mV: number;
  /** 0.1 °C or I16_ABSENT. */
  plugTemp: number;
  hostSeqEcho: number;
  hostRejected: number;
  uptimeMs: number;
  fwMajor: number;
  fwMinor: number;
  fwPatch: number;
}

export interface MeterReport {
  seq: number;
  /** 0.1 Wh: total, L1, L2, L3. */
  importTotal: number;
  importL: [number, number, number];
  exportTotal: number;
  /** W. */
  powerL: [number, number, number];
  /** 0.01 V. */
  voltageL: [number, number, number];
  /** 0.01 A: L1, L2, L3, N. */
  current: [number, number, number, number];
  /** 0.001 Hz. */
  freqL: [number, number, number];
  /** 0.1 °C. */
  temp: number;
  phaseSeqError: boolean;
}

export interface InfoReport {
  seq: number;
  /** 0.1 A. */
  maxImport: number;
  minImport: number;
  maxPhasesImport: number;
  minPhasesImport: number;
  maxExport: number;
  minExport: number;
  maxPhasesExport: number;
  minPhasesExport: number;
  phaseSwitching: boolean;
  socket: boolean;
  /** 0.1 °C or I16_ABSENT. */
  maxPlugTemp: number;
  fwMajor: number;
  fwMinor: number;
  fwPatch: number;
  /** ASCII, up to 16 bytes. */
  meterId: string;
}

export interface ControlReport {
  seq: number;
  heartbeat: number;
  cpMode: number;
  flags: number;
  /** 0.01 %. */
  duty: number;
  reason: number;
  phases: number;
  /** 0.1 A. */
  overcurrent: number;
  rcdSelfTest: number;
  rcdReset: number;
  info: number;
}

export function emptyState(): StateReport {
  return {
    seq: 0,
    cp: 0,
    cpMode: 0,
    cpHigh_mV: 0,
    cpLow_mV: 0,
    duty: 10000,
    flags: 0,
    ampacity: 0,
    pp: PP_OPEN,
    lock: 0,
    rcdTripped: false,
    rcd: 0,
    temp: 0,
    errors: 0,
    fanRpm: 0,
    supply12_mV: 0,
    supplyMinus12_mV: 0,
    plugTemp: I16_ABSENT,
    hostSeqEcho: 0,
    hostRejected: 0,
    uptimeMs: 0,
    fwMajor: 0,
    fwMinor: 0,
    fwPatch: 0,
  };
}

export function emptyMeter(): MeterReport {
  return {
    seq: 0,
    importTotal: 0,
    importL: [0, 0, 0],
    exportTotal: 0,
    powerL: [0, 0, 0],
    voltageL: [0, 0, 0],
    current: [0, 0, 0, 0],
    freqL: [0, 0, 0],
    temp: 0,
    phaseSeqError: false,
  };
}

export function emptyInfo(): InfoReport {
  return {
    seq: 0,
    maxImport: 0,
    minImport: 0,
    maxPhasesImport: 1,
    minPhasesImport: 1,
    maxExport: 0,
    minExport: 0,
    maxPhasesExport: 1,
    minPhasesExport: 1,
    phaseSwitching: false,
    socket: false,
    maxPlugTemp: I16_ABSENT,
    fwMajor: 0,
    fwMinor: 0,
    fwPatch: 0,
    meterId: "",
  };
}

export function emptyControl(): ControlReport {
  return { seq: 0, heartbeat: 0, cpMode: 0, flags: 0, duty: 10000, reason: 0, phases: 3, overcurrent: 0, rcdSelfTest: 0, rcdReset: 0, info: 0 };
}

// ---- little-endian helpers on plain Uint8Arrays (no DataView allocation per report) --------
const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const i16 = (b: Uint8Array, o: number) => (u16(b, o) << 16) >> 16;
const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const i32 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >> 8) & 0xff;
}
function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >> 8) & 0xff;
  b[o + 2] = (v >> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}
const clampU16 = (v: number) => (v < 0 ? 0 : v > 0xffff ? 0xffff : Math.round(v));
const clampI16 = (v: number) => (v < -32767 ? -32767 : v > 32767 ? 32767 : Math.round(v));
const clampU32 = (v: number) => (v < 0 ? 0 : v > 0xffffffff ? 0xffffffff : Math.round(v));
const clampI32 = (v: number) => (v < -0x7fffffff ? -0x7fffffff : v > 0x7fffffff ? 0x7fffffff : Math.round(v));

function header(b: Uint8Array, id: number, seq: number): void {
  b.fill(0);
  b[0] = id;
  b[1] = PROTOCOL_VERSION;
  put16(b, 2, seq & 0xffff);
}

/** Common checks of every report; returns the report id or a negative Reject code. */
export function reportKind(b: Uint8Array, length: number): number {
  if (length < REPORT_SIZE) return -Reject.Short;
  const id = b[0]!;
  if (id !== ReportId.State && id !== ReportId.Meter && id !== ReportId.Info && id !== ReportId.Control) return -Reject.UnknownId;
  if (b[1] !== PROTOCOL_VERSION) return -Reject.Version;
  return id;
}

// ---- STATE ------------------------------------------------------------------------------------
export function encodeState(s: StateReport, b: Uint8Array): void {
  header(b, ReportId.State, s.seq);
  b[4] = s.cp;
  b[5] = s.cpMode;
  put16(b, 6, clampI16(s.cpHigh_mV));
  put16(b, 8, clampI16(s.cpLow_mV));
  put16(b, 10, clampU16(s.duty));
  b[12] = s.flags;
  b[13] = s.ampacity;
  put16(b, 14, clampU16(s.pp));
  b[16] = s.lock;
  b[17] = s.rcdTripped ? 1 : 0;
  put16(b, 18, clampU16(s.rcd));
  put16(b, 20, clampI16(s.temp));
  put16(b, 22, s.errors);
  put16(b, 24, clampU16(s.fanRpm));
  put16(b, 26, clampI16(s.supply12_mV));
  put16(b, 28, clampI16(s.supplyMinus12_mV));
  put16(b, 30, s.plugTemp === I16_ABSENT ? I16_ABSENT : clampI16(s.plugTemp));
  put16(b, 32, s.hostSeqEcho & 0xffff);
  put16(b, 34, clampU16(s.hostRejected));
  put32(b, 36, s.uptimeMs >>> 0);
  b[40] = s.fwMajor;
  b[41] = s.fwMinor;
  b[42] = s.fwPatch;
}

/** Decodes a STATE report whose id and version reportKind() accepted. */
export function decodeState(b: Uint8Array, s: StateReport): RejectCode {
  const cp = b[4]!;
  const mode = b[5]!;
  const duty = u16(b, 10);
  const amp = b[13]!;
  const lock = b[16]!;
  if (cp > 5 || mode > 2 || duty > 10000 || amp > 4 || lock > 2 || b[17]! > 1) return Reject.OutOfRange;
  s.seq = u16(b, 2);
  s.cp = cp;
  s.cpMode = mode;
  s.cpHigh_mV = i16(b, 6);
  s.cpLow_mV = i16(b, 8);
  s.duty = duty;
  s.flags = b[12]!;
  s.ampacity = amp;
  s.pp = u16(b, 14);
  s.lock = lock;
  s.rcdTripped = b[17] === 1;
  s.rcd = u16(b, 18);
  s.temp = i16(b, 20);
  s.errors = u16(b, 22);
  s.fanRpm = u16(b, 24);
  s.supply12_mV = i16(b, 26);
  s.supplyMinus12_mV = i16(b, 28);
  s.plugTemp = i16(b, 30);
  s.hostSeqEcho = u16(b, 32);
  s.hostRejected = u16(b, 34);
  s.uptimeMs = u32(b, 36);
  s.fwMajor = b[40]!;
  s.fwMinor = b[41]!;
  s.fwPatch = b[42]!;
  return Reject.None;
}

// ---- METER ------------------------------------------------------------------------------------
export function encodeMeter(m: MeterReport, b: Uint8Array): void {
  header(b, ReportId.Meter, m.seq);
  put32(b, 4, clampU32(m.importTotal));
  for (let k = 0; k < 3; k++) put32(b, 8 + 4 * k, clampU32(m.importL[k]!));
  put32(b, 20, clampU32(m.exportTotal));
  for (let k = 0; k < 3; k++) put32(b, 24 + 4 * k, clampI32(m.powerL[k]!));
  for (let k = 0; k < 3; k++) put16(b, 36 + 2 * k, clampU16(m.voltageL[k]!));
  for (let k = 0; k < 4; k++) put16(b, 42 + 2 * k, clampI16(m.current[k]!));
  for (let k = 0; k < 3; k++) put16(b, 50 + 2 * k, clampU16(m.freqL[k]!));
  put16(b, 56, clampI16(m.temp));
  b[58] = m.phaseSeqError ? 1 : 0;
}

export function decodeMeter(b: Uint8Array, m: MeterReport): RejectCode {
  if (b[58]! > 1) return Reject.OutOfRange;
  m.seq = u16(b, 2);
  m.importTotal = u32(b, 4);
  for (let k = 0; k < 3; k++) m.importL[k] = u32(b, 8 + 4 * k);
  m.exportTotal = u32(b, 20);
  for (let k = 0; k < 3; k++) m.powerL[k] = i32(b, 24 + 4 * k);
  for (let k = 0; k < 3; k++) m.voltageL[k] = u16(b, 36 + 2 * k);
  for (let k = 0; k < 4; k++) m.current[k] = i16(b, 42 + 2 * k);
  for (let k = 0; k < 3; k++) m.freqL[k] = u16(b, 50 + 2 * k);
  m.temp = i16(b, 56);
  m.phaseSeqError = b[58] === 1;
  return Reject.None;
}

// ---- INFO -------------------------------------------------------------------------------------
export function encodeInfo(i: InfoReport, b: Uint8Array): void {
  header(b, ReportId.Info, i.seq);
  put16(b, 4, clampU16(i.maxImport));
  put16(b, 6, clampU16(i.minImport));
  b[8] = i.maxPhasesImport;
  b[9] = i.minPhasesImport;
  put16(b, 10, clampU16(i.maxExport));
  put16(b, 12, clampU16(i.minExport));
  b[14] = i.maxPhasesExport;
  b[15] = i.minPhasesExport;
  b[16] = (i.phaseSwitching ? 1 : 0) | (i.socket ? 2 : 0) | (i.maxPlugTemp !== I16_ABSENT ? 4 : 0);
  put16(b, 18, i.maxPlugTemp === I16_ABSENT ? I16_ABSENT : clampI16(i.maxPlugTemp));
  b[20] = i.fwMajor;
  b[21] = i.fwMinor;
  b[22] = i.fwPatch;
  for (let k = 0; k < 16 && k < i.meterId.length; k++) b[24 + k] = i.meterId.charCodeAt(k) & 0x7f;
}

const phasesOk = (p: number) => p >= 1 && p <= 3;

/** Not on the hot path (once per connection), so it may build the meter-id string. */
export function decodeInfo(b: Uint8Array, i: InfoReport): RejectCode {
  if (!phasesOk(b[8]!) || !phasesOk(b[9]!) || !phasesOk(b[14]!) || !phasesOk(b[15]!) || b[16]! > 7) return Reject.OutOfRange;
  i.seq = u16(b, 2);
  i.maxImport = u16(b, 4);
  i.minImport = u16(b, 6);
  i.maxPhasesImport = b[8]!;
  i.minPhasesImport = b[9]!;
  i.maxExport = u16(b, 10);
  i.minExport = u16(b, 12);
  i.maxPhasesExport = b[14]!;
  i.minPhasesExport = b[15]!;
  i.phaseSwitching = (b[16]! & 1) !== 0;
  i.socket = (b[16]! & 2) !== 0;
  i.maxPlugTemp = (b[16]! & 4) !== 0 ? i16(b, 18) : I16_ABSENT;
  i.fwMajor = b[20]!;
  i.fwMinor = b[21]!;
  i.fwPatch = b[22]!;
  let id = "";
  for (let k = 24; k < 40 && b[k] !== 0; k++) id += String.fromCharCode(b[k]!);
  i.meterId = id;
  return Reject.None;
}

// ---- CONTROL ----------------------------------------------------------------------------------
export function encodeControl(c: ControlReport, b: Uint8Array): void {
  header(b, ReportId.Control, c.seq);
  put16(b, 4, c.heartbeat & 0xffff);
  b[6] = c.cpMode;
  b[7] = c.flags;
  put16(b, 8, clampU16(c.duty));
  b[10] = c.reason;
  b[11] = c.phases;
  put16(b, 12, clampU16(c.overcurrent));
  b[14] = c.rcdSelfTest & 0xff;
  b[15] = c.rcdReset & 0xff;
  b[16] = c.info & 0xff;
}

/** The board's check of a host report (what firmware must implement; the simulator does). */
export function decodeControl(b: Uint8Array, c: ControlReport): RejectCode {
  const mode = b[6]!;
  const duty = u16(b, 8);
  const phases = b[11]!;
  if (mode > 2 || b[7]! > 7 || b[10]! > 3 || (phases !== 1 && phases !== 3)) return Reject.OutOfRange;
  if (duty > 10000 || (mode === 1 && duty === 0)) return Reject.OutOfRange;
  c.seq = u16(b, 2);
  c.heartbeat = u16(b, 4);
  c.cpMode = mode;
  c.flags = b[7]!;
  c.duty = duty;
  c.reason = b[10]!;
  c.phases = phases;
  c.overcurrent = u16(b, 12);
  c.rcdSelfTest = b[14]!;
  c.rcdReset = b[15]!;
  c.info = b[16]!;
  return Reject.None;
}
