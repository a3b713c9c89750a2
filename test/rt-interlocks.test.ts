// rt-worker/interlocks.ts: the worker's own reasons to keep the relays open, and the PWM cap.
import { describe, expect, test } from "bun:test";
import { ampsForDuty, cableAmps, dutyForAtMost } from "../core/pwm.ts";
import { limitDuty, powerTrip, Trip, type InterlockInput } from "../rt-worker/interlocks.ts";

/** The protocol's duty unit (0.01 %) → amps, by the one IEC rule. */
const dutyToAmps = (duty: number) => ampsForDuty(duty / 100);

const safe = (): InterlockInput => ({
  boardLink: true,
  cp: 2, // C
  diodeFault: false,
  rcdTripped: false,
  socket: false,
  ampacity: 0,
  mainSilentMs: 0,
  mainSilenceLimitMs: 1000,
});

describe("power interlocks", () => {
  test("C and D with a healthy board and a live main thread allow power", () => {
    expect(powerTrip(safe())).toBe(Trip.None);
    expect(powerTrip({ ...safe(), cp: 3 })).toBe(Trip.None);
  });

  test("every CP state other than C and D forbids power (C→B, A, E, F, unknown)", () => {
    for (const cp of [0, 1, 4, 5, -1]) expect(powerTrip({ ...safe(), cp })).toBe(Trip.CpNotCharging);
  });

  test("a diode fault forbids power", () => {
    expect(powerTrip({ ...safe(), diodeFault: true })).toBe(Trip.DiodeFault);
  });

  test("an RCD trip forbids power", () => {
    expect(powerTrip({ ...safe(), rcdTripped: true })).toBe(Trip.RcdTripped);
  });

  test("a socket without a readable PP forbids power; a tethered cable does not need PP", () => {
    expect(powerTrip({ ...safe(), socket: true, ampacity: 0 })).toBe(Trip.PpLost);
    expect(powerTrip({ ...safe(), socket: true, ampacity: 3 })).toBe(Trip.None);
    expect(powerTrip({ ...safe(), socket: false, ampacity: 0 })).toBe(Trip.None);
  });

  test("a main thread silent for 1 s forbids power, 999 ms does not", () => {
    expect(powerTrip({ ...safe(), mainSilentMs: 999 })).toBe(Trip.None);
    expect(powerTrip({ ...safe(), mainSilentMs: 1000 })).toBe(Trip.MainSilent);
  });

  test("a board that does not answer (or holds its watchdog F) forbids power", () => {
    expect(powerTrip({ ...safe(), boardLink: false })).toBe(Trip.BoardSilent);
  });
});

describe("PWM never offers more than the cable", () => {
  test("duty → amps follows the IEC table boundaries", () => {
    expect(dutyToAmps(799)).toBe(0);
    expect(dutyToAmps(800)).toBe(6);
    expect(dutyToAmps(1000)).toBeCloseTo(6);
    expect(dutyToAmps(8500)).toBeCloseTo(51);
    expect(dutyToAmps(8600)).toBeCloseTo(55);
    expect(dutyToAmps(9700)).toBe(80);
    expect(dutyToAmps(9701)).toBe(0);
  });

  test("the capped duty never exceeds the cable rating", () => {
    for (const amps of [13, 20, 32, 63, 70]) {
      const d = dutyForAtMost(amps);
      expect(dutyToAmps(d)).toBeLessThanOrEqual(amps);
      expect(dutyToAmps(d + 1)).toBeGreaterThan(amps - 0.1);
    }
  });

  test("a socket with a 13 A cable caps a 32 A request; smaller requests pass unchanged", () => {
    expect(dutyToAmps(limitDuty(5333, true, 1, true))).toBeLessThanOrEqual(13);
    expect(limitDuty(1000, true, 1, true)).toBe(1000);
    expect(limitDuty(5333, false, 1, true)).toBe(5333);
  });

  test("63 A three-phase / 70 A single-phase cable", () => {
    expect(cableAmps("A_63_3ph_70_1ph", true)).toBe(63);
    expect(cableAmps("A_63_3ph_70_1ph", false)).toBe(70);
    expect(dutyToAmps(limitDuty(9600, true, 4, true))).toBeLessThanOrEqual(63);
  });

  test("a socket without PP offers no PWM at all", () => {
    expect(limitDuty(2667, true, 0, true)).toBe(-1);
  });
});
