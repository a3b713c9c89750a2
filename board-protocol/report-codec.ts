// The USB-HID report codec of docs/board-protocol.md: 64-byte reports, little-endian. Every byte
// offset is named once, in the tables below (one per report, in the order of the document), and
// the encoders and decoders use only those names. Decoders fill caller-owned objects and return a
// reject reason instead of throwing, so the real-time loop decodes without allocating and a
// malformed report is counted, never fatal.
import { ControlFlag, CpMode, DUTY_STEADY, I16_ABSENT, InfoFlag, PP_OPEN, PROTOCOL_VERSION, Reject, REPORT_SIZE, ReportId, type RejectCode } from "./codes.ts";

/** Bytes every report starts with (§1). */
export const Header = { ID: 0, VERSION: 1, SEQ: 2 } as const;

/** STATE (§2). */
export const StateAt = {
  CP: 4,
  CP_MODE: 5,
  CP_HIGH_mV: 6,
  CP_LOW_mV: 8,
  DUTY: 10,
  FLAGS: 12,
  AMPACITY: 13,
  PP: 14,
  LOCK: 16,
  RCD_TRIPPED: 17,
  RCD: 18,
  TEMP: 20,
  ERRORS: 22,
  FAN: 24,
  SUPPLY_12V: 26,
  SUPPLY_MINUS_12V: 28,
  PLUG_TEMP: 30,
  HOST_SEQ_ECHO: 32,
  HOST_REJECTED: 34,
  UPTIME: 36,
  FIRMWARE: 40, // major, minor, patch
} as const;

/** METER (§3): per-phase fields follow each other (L1, L2, L3 [, N]). */
export const MeterAt = {
  IMPORT_TOTAL: 4,
  IMPORT_L1: 8, // u32 ×3
  EXPORT_TOTAL: 20,
  POWER_L1: 24, // i32 ×3
  VOLTAGE_L1: 36, // u16 ×3
  CURRENT_L1: 42, // i16 ×4 (N last)
  FREQ_L1: 50, // u16 ×3
  TEMP: 56,
  PHASE_SEQ_ERROR: 58,
} as const;

/** INFO (§4). */
export const InfoAt = {
  MAX_IMPORT: 4,
  MIN_IMPORT: 6,
  MAX_PHASES_IMPORT: 8,
  MIN_PHASES_IMPORT: 9,
  MAX_EXPORT: 10,
  MIN_EXPORT: 12,
  MAX_PHASES_EXPORT: 14,
  MIN_PHASES_EXPORT: 15,
  FLAGS: 16,
  MAX_PLUG_TEMP: 18,
  FIRMWARE: 20, // major, minor, patch
  METER_ID: 24,
} as const;
/** Length of the INFO meter id (ASCII, zero-padded). */
export const METER_ID_BYTES = 16;

/** CONTROL (§5). */
export const ControlAt = {
  HEARTBEAT: 4,
  CP_MODE: 6,
  FLAGS: 7,
  DUTY: 8,
  REASON: 10,
  PHASES: 11,
  OVERCURRENT: 12,
  RCD_SELFTEST: 14,
  RCD_RESET: 15,
  INFO: 16,
} as const;

/** Largest valid field values (refused above, §2 and §5). */
const MAX_CP = 5;
const MAX_CP_MODE = 2;
const MAX_AMPACITY = 4;
const MAX_LOCK = 2;
const MAX_REASON = 3;
const CONTROL_FLAG_BITS = ControlFlag.ENABLE | ControlFlag.ALLOW_POWER_ON | ControlFlag.LOCK;
const INFO_FLAG_BITS = InfoFlag.PHASE_SWITCHING | InfoFlag.SOCKET | InfoFlag.MAX_PLUG_TEMP;

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
    duty: DUTY_STEADY,
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
  return { seq: 0, heartbeat: 0, cpMode: 0, flags: 0, duty: DUTY_STEADY, reason: 0, phases: 3, overcurrent: 0, rcdSelfTest: 0, rcdReset: 0, info: 0 };
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
/** An optional temperature: I16_ABSENT passes unclamped. */
const optI16 = (v: number) => (v === I16_ABSENT ? I16_ABSENT : clampI16(v));

function header(b: Uint8Array, id: number, seq: number): void {
  b.fill(0);
  b[Header.ID] = id;
  b[Header.VERSION] = PROTOCOL_VERSION;
  put16(b, Header.SEQ, seq & 0xffff);
}

/** Common checks of every report; returns the report id or a negative Reject code. */
export function reportKind(b: Uint8Array, length: number): number {
  if (length < REPORT_SIZE) return -Reject.Short;
  const id = b[Header.ID]!;
  if (id !== ReportId.State && id !== ReportId.Meter && id !== ReportId.Info && id !== ReportId.Control) return -Reject.UnknownId;
  if (b[Header.VERSION] !== PROTOCOL_VERSION) return -Reject.Version;
  return id;
}

// ---- STATE ------------------------------------------------------------------------------------
export function encodeState(s: StateReport, b: Uint8Array): void {
  header(b, ReportId.State, s.seq);
  b[StateAt.CP] = s.cp;
  b[StateAt.CP_MODE] = s.cpMode;
  put16(b, StateAt.CP_HIGH_mV, clampI16(s.cpHigh_mV));
  put16(b, StateAt.CP_LOW_mV, clampI16(s.cpLow_mV));
  put16(b, StateAt.DUTY, clampU16(s.duty));
  b[StateAt.FLAGS] = s.flags;
  b[StateAt.AMPACITY] = s.ampacity;
  put16(b, StateAt.PP, clampU16(s.pp));
  b[StateAt.LOCK] = s.lock;
  b[StateAt.RCD_TRIPPED] = s.rcdTripped ? 1 : 0;
  put16(b, StateAt.RCD, clampU16(s.rcd));
  put16(b, StateAt.TEMP, clampI16(s.temp));
  put16(b, StateAt.ERRORS, s.errors);
  put16(b, StateAt.FAN, clampU16(s.fanRpm));
  put16(b, StateAt.SUPPLY_12V, clampI16(s.supply12_mV));
  put16(b, StateAt.SUPPLY_MINUS_12V, clampI16(s.supplyMinus12_mV));
  put16(b, StateAt.PLUG_TEMP, optI16(s.plugTemp));
  put16(b, StateAt.HOST_SEQ_ECHO, s.hostSeqEcho & 0xffff);
  put16(b, StateAt.HOST_REJECTED, clampU16(s.hostRejected));
  put32(b, StateAt.UPTIME, s.uptimeMs >>> 0);
  b[StateAt.FIRMWARE] = s.fwMajor;
  b[StateAt.FIRMWARE + 1] = s.fwMinor;
  b[StateAt.FIRMWARE + 2] = s.fwPatch;
}

/** Decodes a STATE report whose id and version reportKind() accepted. */
export function decodeState(b: Uint8Array, s: StateReport): RejectCode {
  const cp = b[StateAt.CP]!;
  const mode = b[StateAt.CP_MODE]!;
  const duty = u16(b, StateAt.DUTY);
  const amp = b[StateAt.AMPACITY]!;
  const lock = b[StateAt.LOCK]!;
  const rcdTripped = b[StateAt.RCD_TRIPPED]!;
  if (cp > MAX_CP || mode > MAX_CP_MODE || duty > DUTY_STEADY || amp > MAX_AMPACITY || lock > MAX_LOCK || rcdTripped > 1) return Reject.OutOfRange;
  s.seq = u16(b, Header.SEQ);
  s.cp = cp;
  s.cpMode = mode;
  s.cpHigh_mV = i16(b, StateAt.CP_HIGH_mV);
  s.cpLow_mV = i16(b, StateAt.CP_LOW_mV);
  s.duty = duty;
  s.flags = b[StateAt.FLAGS]!;
  s.ampacity = amp;
  s.pp = u16(b, StateAt.PP);
  s.lock = lock;
  s.rcdTripped = rcdTripped === 1;
  s.rcd = u16(b, StateAt.RCD);
  s.temp = i16(b, StateAt.TEMP);
  s.errors = u16(b, StateAt.ERRORS);
  s.fanRpm = u16(b, StateAt.FAN);
  s.supply12_mV = i16(b, StateAt.SUPPLY_12V);
  s.supplyMinus12_mV = i16(b, StateAt.SUPPLY_MINUS_12V);
  s.plugTemp = i16(b, StateAt.PLUG_TEMP);
  s.hostSeqEcho = u16(b, StateAt.HOST_SEQ_ECHO);
  s.hostRejected = u16(b, StateAt.HOST_REJECTED);
  s.uptimeMs = u32(b, StateAt.UPTIME);
  s.fwMajor = b[StateAt.FIRMWARE]!;
  s.fwMinor = b[StateAt.FIRMWARE + 1]!;
  s.fwPatch = b[StateAt.FIRMWARE + 2]!;
  return Reject.None;
}

// ---- METER ------------------------------------------------------------------------------------
export function encodeMeter(m: MeterReport, b: Uint8Array): void {
  header(b, ReportId.Meter, m.seq);
  put32(b, MeterAt.IMPORT_TOTAL, clampU32(m.importTotal));
  for (let k = 0; k < 3; k++) put32(b, MeterAt.IMPORT_L1 + 4 * k, clampU32(m.importL[k]!));
  put32(b, MeterAt.EXPORT_TOTAL, clampU32(m.exportTotal));
  for (let k = 0; k < 3; k++) put32(b, MeterAt.POWER_L1 + 4 * k, clampI32(m.powerL[k]!));
  for (let k = 0; k < 3; k++) put16(b, MeterAt.VOLTAGE_L1 + 2 * k, clampU16(m.voltageL[k]!));
  for (let k = 0; k < 4; k++) put16(b, MeterAt.CURRENT_L1 + 2 * k, clampI16(m.current[k]!));
  for (let k = 0; k < 3; k++) put16(b, MeterAt.FREQ_L1 + 2 * k, clampU16(m.freqL[k]!));
  put16(b, MeterAt.TEMP, clampI16(m.temp));
  b[MeterAt.PHASE_SEQ_ERROR] = m.phaseSeqError ? 1 : 0;
}

export function decodeMeter(b: Uint8Array, m: MeterReport): RejectCode {
  if (b[MeterAt.PHASE_SEQ_ERROR]! > 1) return Reject.OutOfRange;
  m.seq = u16(b, Header.SEQ);
  m.importTotal = u32(b, MeterAt.IMPORT_TOTAL);
  for (let k = 0; k < 3; k++) m.importL[k] = u32(b, MeterAt.IMPORT_L1 + 4 * k);
  m.exportTotal = u32(b, MeterAt.EXPORT_TOTAL);
  for (let k = 0; k < 3; k++) m.powerL[k] = i32(b, MeterAt.POWER_L1 + 4 * k);
  for (let k = 0; k < 3; k++) m.voltageL[k] = u16(b, MeterAt.VOLTAGE_L1 + 2 * k);
  for (let k = 0; k < 4; k++) m.current[k] = i16(b, MeterAt.CURRENT_L1 + 2 * k);
  for (let k = 0; k < 3; k++) m.freqL[k] = u16(b, MeterAt.FREQ_L1 + 2 * k);
  m.temp = i16(b, MeterAt.TEMP);
  m.phaseSeqError = b[MeterAt.PHASE_SEQ_ERROR] === 1;
  return Reject.None;
}

// ---- INFO -------------------------------------------------------------------------------------
export function encodeInfo(i: InfoReport, b: Uint8Array): void {
  header(b, ReportId.Info, i.seq);
  put16(b, InfoAt.MAX_IMPORT, clampU16(i.maxImport));
  put16(b, InfoAt.MIN_IMPORT, clampU16(i.minImport));
  b[InfoAt.MAX_PHASES_IMPORT] = i.maxPhasesImport;
  b[InfoAt.MIN_PHASES_IMPORT] = i.minPhasesImport;
  put16(b, InfoAt.MAX_EXPORT, clampU16(i.maxExport));
  put16(b, InfoAt.MIN_EXPORT, clampU16(i.minExport));
  b[InfoAt.MAX_PHASES_EXPORT] = i.maxPhasesExport;
  b[InfoAt.MIN_PHASES_EXPORT] = i.minPhasesExport;
  b[InfoAt.FLAGS] =
    (i.phaseSwitching ? InfoFlag.PHASE_SWITCHING : 0) | (i.socket ? InfoFlag.SOCKET : 0) | (i.maxPlugTemp !== I16_ABSENT ? InfoFlag.MAX_PLUG_TEMP : 0);
  put16(b, InfoAt.MAX_PLUG_TEMP, optI16(i.maxPlugTemp));
  b[InfoAt.FIRMWARE] = i.fwMajor;
  b[InfoAt.FIRMWARE + 1] = i.fwMinor;
  b[InfoAt.FIRMWARE + 2] = i.fwPatch;
  for (let k = 0; k < METER_ID_BYTES && k < i.meterId.length; k++) b[InfoAt.METER_ID + k] = i.meterId.charCodeAt(k) & 0x7f;
}

const phasesOk = (p: number) => p >= 1 && p <= 3;

/** Not on the hot path (once per connection), so it may build the meter-id string. */
export function decodeInfo(b: Uint8Array, i: InfoReport): RejectCode {
  const flags = b[InfoAt.FLAGS]!;
  const phases = [InfoAt.MAX_PHASES_IMPORT, InfoAt.MIN_PHASES_IMPORT, InfoAt.MAX_PHASES_EXPORT, InfoAt.MIN_PHASES_EXPORT] as const;
  for (const at of phases) if (!phasesOk(b[at]!)) return Reject.OutOfRange;
  if ((flags & ~INFO_FLAG_BITS) !== 0) return Reject.OutOfRange;
  i.seq = u16(b, Header.SEQ);
  i.maxImport = u16(b, InfoAt.MAX_IMPORT);
  i.minImport = u16(b, InfoAt.MIN_IMPORT);
  i.maxPhasesImport = b[InfoAt.MAX_PHASES_IMPORT]!;
  i.minPhasesImport = b[InfoAt.MIN_PHASES_IMPORT]!;
  i.maxExport = u16(b, InfoAt.MAX_EXPORT);
  i.minExport = u16(b, InfoAt.MIN_EXPORT);
  i.maxPhasesExport = b[InfoAt.MAX_PHASES_EXPORT]!;
  i.minPhasesExport = b[InfoAt.MIN_PHASES_EXPORT]!;
  i.phaseSwitching = (flags & InfoFlag.PHASE_SWITCHING) !== 0;
  i.socket = (flags & InfoFlag.SOCKET) !== 0;
  i.maxPlugTemp = (flags & InfoFlag.MAX_PLUG_TEMP) !== 0 ? i16(b, InfoAt.MAX_PLUG_TEMP) : I16_ABSENT;
  i.fwMajor = b[InfoAt.FIRMWARE]!;
  i.fwMinor = b[InfoAt.FIRMWARE + 1]!;
  i.fwPatch = b[InfoAt.FIRMWARE + 2]!;
  let id = "";
  for (let k = InfoAt.METER_ID; k < InfoAt.METER_ID + METER_ID_BYTES && b[k] !== 0; k++) id += String.fromCharCode(b[k]!);
  i.meterId = id;
  return Reject.None;
}

// ---- CONTROL ----------------------------------------------------------------------------------
export function encodeControl(c: ControlReport, b: Uint8Array): void {
  header(b, ReportId.Control, c.seq);
  put16(b, ControlAt.HEARTBEAT, c.heartbeat & 0xffff);
  b[ControlAt.CP_MODE] = c.cpMode;
  b[ControlAt.FLAGS] = c.flags;
  put16(b, ControlAt.DUTY, clampU16(c.duty));
  b[ControlAt.REASON] = c.reason;
  b[ControlAt.PHASES] = c.phases;
  put16(b, ControlAt.OVERCURRENT, clampU16(c.overcurrent));
  b[ControlAt.RCD_SELFTEST] = c.rcdSelfTest & 0xff;
  b[ControlAt.RCD_RESET] = c.rcdReset & 0xff;
  b[ControlAt.INFO] = c.info & 0xff;
}

/** The board's check of a host report (what firmware must implement; the simulator does). */
export function decodeControl(b: Uint8Array, c: ControlReport): RejectCode {
  const mode = b[ControlAt.CP_MODE]!;
  const flags = b[ControlAt.FLAGS]!;
  const duty = u16(b, ControlAt.DUTY);
  const reason = b[ControlAt.REASON]!;
  const phases = b[ControlAt.PHASES]!;
  if (mode > MAX_CP_MODE || (flags & ~CONTROL_FLAG_BITS) !== 0 || reason > MAX_REASON || (phases !== 1 && phases !== 3)) return Reject.OutOfRange;
  if (duty > DUTY_STEADY || (mode === CpMode.PWM && duty === 0)) return Reject.OutOfRange;
  c.seq = u16(b, Header.SEQ);
  c.heartbeat = u16(b, ControlAt.HEARTBEAT);
  c.cpMode = mode;
  c.flags = flags;
  c.duty = duty;
  c.reason = reason;
  c.phases = phases;
  c.overcurrent = u16(b, ControlAt.OVERCURRENT);
  c.rcdSelfTest = b[ControlAt.RCD_SELFTEST]!;
  c.rcdReset = b[ControlAt.RCD_RESET]!;
  c.info = b[ControlAt.INFO]!;
  return Reject.None;
}
