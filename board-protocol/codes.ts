// The protocol's numbers (docs/board-protocol.md): report ids, the codes carried in report fields,
// flag bits. Shared by the host (rt-worker/) and the simulated board (sim/board/).

/** Every report is 64 bytes, both directions. */
export const REPORT_SIZE = 64;
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

/** CP output: what the host asks for (CONTROL mode) and the board generates (STATE byte 5). */
export const CpMode = { X1: 0, PWM: 1, F: 2 } as const;
export type CpModeCode = (typeof CpMode)[keyof typeof CpMode];

/** CP states as codes (STATE byte 4), in report order. */
export const CP_STATES = ["A", "B", "C", "D", "E", "F"] as const;
export type CpStateName = (typeof CP_STATES)[number];
/** The code of each CP state. */
export const Cp = { A: 0, B: 1, C: 2, D: 3, E: 4, F: 5 } as const;

/** ProximityPilot.ampacity as codes (STATE byte 13). */
export const AMPACITIES = ["None", "A_13", "A_20", "A_32", "A_63_3ph_70_1ph"] as const;
export type AmpacityName = (typeof AMPACITIES)[number];

/** PowerOnOff.reason as codes (CONTROL byte 10). */
export const POWER_REASONS = ["PowerOff", "FullPowerCharging", "DCCableCheck", "DCPreCharge"] as const;

/** STATE flags (byte 12). */
export const StateFlag = {
  RELAYS_CLOSED: 1 << 0,
  /** The board has not seen a valid host report for 500 ms: relays open, CP F. */
  HOST_WATCHDOG: 1 << 1,
  THREE_PHASES: 1 << 2,
  ENABLED: 1 << 3,
} as const;

/** Lock state (STATE byte 16). */
export const LockState = { Unlocked: 0, Locked: 1, Moving: 2 } as const;

/** CONTROL flags (byte 7). */
export const ControlFlag = {
  ENABLE: 1 << 0,
  ALLOW_POWER_ON: 1 << 1,
  LOCK: 1 << 2,
} as const;

/** INFO flags (byte 16). */
export const InfoFlag = {
  PHASE_SWITCHING: 1 << 0,
  SOCKET: 1 << 1,
  MAX_PLUG_TEMP: 1 << 2,
} as const;

/** Absent value of signed 16-bit optional temperatures. */
export const I16_ABSENT = -32768;
/** PP resistance when no resistor is measured (open). */
export const PP_OPEN = 0xffff;
/** Duty (0.01 %) of a steady level: sent and reported when no PWM runs. */
export const DUTY_STEADY = 10000;
