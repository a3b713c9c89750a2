// docs/board-protocol.md: every report survives encode → decode, and malformed bytes are refused
// with a reason instead of throwing.
import { describe, expect, test } from "bun:test";
import {
  decodeControl,
  decodeInfo,
  decodeMeter,
  decodeState,
  emptyControl,
  emptyInfo,
  emptyMeter,
  emptyState,
  encodeControl,
  encodeInfo,
  encodeMeter,
  encodeState,
  I16_ABSENT,
  Reject,
  ReportId,
  reportKind,
  StateFlag,
} from "../board-protocol/index.ts";

const buf = () => new Uint8Array(64);

describe("report codec", () => {
  test("a STATE report round-trips every field", () => {
    const s = emptyState();
    Object.assign(s, {
      seq: 65535,
      cp: 2,
      cpMode: 1,
      cpHigh_mV: 5987,
      cpLow_mV: -12003,
      duty: 2667,
      flags: StateFlag.RELAYS_CLOSED | StateFlag.THREE_PHASES,
      ampacity: 3,
      pp: 2201,
      lock: 1,
      rcdTripped: true,
      rcd: 1050,
      temp: -155,
      errors: 0b1000_0000_0000_0011,
      fanRpm: 1500,
      supply12_mV: 12010,
      supplyMinus12_mV: -11800,
      plugTemp: I16_ABSENT,
      hostSeqEcho: 77,
      hostRejected: 3,
      uptimeMs: 4_000_000_000,
      fwMajor: 1,
      fwMinor: 2,
      fwPatch: 3,
    });
    const b = buf();
    encodeState(s, b);
    expect(reportKind(b, 64)).toBe(ReportId.State);
    const d = emptyState();
    expect(decodeState(b, d)).toBe(Reject.None);
    expect(d).toEqual(s);
  });

  test("a METER report round-trips, including negative power and current", () => {
    const m = emptyMeter();
    Object.assign(m, {
      seq: 9,
      importTotal: 123456789,
      importL: [1, 2, 3],
      exportTotal: 42,
      powerL: [3680, -3680, 0],
      voltageL: [23012, 22990, 0],
      current: [1600, -1600, 0, 20],
      freqL: [50012, 49990, 50000],
      temp: 570,
      phaseSeqError: true,
    });
    const b = buf();
    encodeMeter(m, b);
    const d = emptyMeter();
    expect(decodeMeter(b, d)).toBe(Reject.None);
    expect(d).toEqual(m);
  });

  test("an INFO report round-trips capabilities and the meter id", () => {
    const i = emptyInfo();
    Object.assign(i, {
      seq: 1,
      maxImport: 320,
      minImport: 60,
      maxPhasesImport: 3,
      minPhasesImport: 1,
      maxExport: 160,
      minExport: 0,
      maxPhasesExport: 3,
      minPhasesExport: 1,
      phaseSwitching: true,
      socket: true,
      maxPlugTemp: 900,
      fwMajor: 1,
      fwMinor: 0,
      fwPatch: 7,
      meterId: "SIM_POWERMETER",
    });
    const b = buf();
    encodeInfo(i, b);
    const d = emptyInfo();
    expect(decodeInfo(b, d)).toBe(Reject.None);
    expect(d).toEqual(i);
  });

  test("a CONTROL report round-trips", () => {
    const c = emptyControl();
    Object.assign(c, { seq: 5, heartbeat: 6, cpMode: 1, flags: 3, duty: 5333, reason: 1, phases: 1, overcurrent: 330, rcdSelfTest: 2, rcdReset: 255, info: 1 });
    const b = buf();
    encodeControl(c, b);
    const d = emptyControl();
    expect(decodeControl(b, d)).toBe(Reject.None);
    expect(d).toEqual(c);
  });

  test("short, unknown-id and wrong-version reports are refused by reportKind", () => {
    const b = buf();
    encodeState(emptyState(), b);
    expect(reportKind(b, 63)).toBe(-Reject.Short);
    const wrongId = b.slice();
    wrongId[0] = 0x7f;
    expect(reportKind(wrongId, 64)).toBe(-Reject.UnknownId);
    const wrongVersion = b.slice();
    wrongVersion[1] = 2;
    expect(reportKind(wrongVersion, 64)).toBe(-Reject.Version);
  });

  test("out-of-range fields are refused and leave the target untouched", () => {
    const s = emptyState();
    const b = buf();
    encodeState(s, b);
    const target = emptyState();
    target.cp = 3;
    for (const [offset, value] of [
      [4, 6], // CP state beyond F
      [5, 3], // cp mode
      [13, 5], // ampacity
      [16, 3], // lock state
      [17, 2], // rcd flag
    ] as const) {
      const bad = b.slice();
      bad[offset] = value;
      expect(decodeState(bad, target)).toBe(Reject.OutOfRange);
      expect(target.cp).toBe(3);
    }
    const dutyTooHigh = b.slice();
    dutyTooHigh[10] = 0x11;
    dutyTooHigh[11] = 0x27; // 10001
    expect(decodeState(dutyTooHigh, target)).toBe(Reject.OutOfRange);
  });

  test("the board refuses a CONTROL report with PWM at 0 %, bad phases or an unknown reason", () => {
    const c = emptyControl();
    const b = buf();
    encodeControl(c, b);
    const d = emptyControl();
    const pwmZero = b.slice();
    pwmZero[6] = 1;
    pwmZero[8] = 0;
    pwmZero[9] = 0;
    expect(decodeControl(pwmZero, d)).toBe(Reject.OutOfRange);
    const phases2 = b.slice();
    phases2[11] = 2;
    expect(decodeControl(phases2, d)).toBe(Reject.OutOfRange);
    const reason = b.slice();
    reason[10] = 4;
    expect(decodeControl(reason, d)).toBe(Reject.OutOfRange);
  });
});
