// OCPP 1.6 smart charging (ocpp.md §5.7): which profiles are accepted, how they stack, and what
// each connector may draw at any instant. Clock injected; no real time.
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { EnforcedLimitsSchema } from "../core/types/index.ts";
import {
  NO_LIMIT_A,
  REFRESH_MS,
  SmartCharging,
  VALIDITY_MARGIN_MS,
  parseAllowedChargingRateUnits,
  toEnforcedLimits,
  type ChargingProfile,
  type ChargingSchedulePeriod,
  type InstalledProfile,
  type SmartChargingConfig,
  type TransactionRef,
} from "../ocpp/smart-charging/index.ts";

const T0 = Date.parse("2025-03-03T10:00:00Z"); // a Monday
const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (ms: number) => new Date(ms).toISOString();

class MemoryProfileStore {
  data: InstalledProfile[] = [];
  saves = 0;
  load(): InstalledProfile[] {
    return structuredClone(this.data);
  }
  save(profiles: InstalledProfile[]): void {
    this.data = structuredClone(profiles);
    this.saves++;
  }
}

function rig(config: Partial<SmartChargingConfig> = {}, store = new MemoryProfileStore()) {
  const clock = { t: T0 };
  const txs = new Map<number, TransactionRef>();
  const sc = new SmartCharging({
    now: () => clock.t,
    store,
    config: {
      maxStackLevel: 10,
      allowedUnits: ["A", "W"],
      maxPeriods: 24,
      maxProfiles: 20,
      connectors: 2,
      ratedCurrentA: 32,
      ...config,
    },
    transactionOf: (c) => txs.get(c) ?? null,
  });
  return { sc, clock, txs, store };
}

type Periods = [number, number, number?][]; // [startPeriod, limit, numberPhases?]

function periods(list: Periods): ChargingSchedulePeriod[] {
  return list.map(([startPeriod, limit, numberPhases]) =>
    numberPhases === undefined ? { startPeriod, limit } : { startPeriod, limit, numberPhases },
  );
}

/** An Absolute TxDefaultProfile in A starting an hour before T0 unless told otherwise. */
function profile(
  over: Partial<Omit<ChargingProfile, "chargingSchedule">> & {
    periods?: Periods;
    unit?: "A" | "W";
    startSchedule?: string | null;
    duration?: number;
    minChargingRate?: number;
  } = {},
): ChargingProfile {
  const { periods: list = [[0, 16]], unit = "A", startSchedule, duration, minChargingRate, ...rest } = over;
  const p: ChargingProfile = {
    chargingProfileId: 1,
    stackLevel: 0,
    chargingProfilePurpose: "TxDefaultProfile",
    chargingProfileKind: "Absolute",
    ...rest,
    chargingSchedule: { chargingRateUnit: unit, chargingSchedulePeriod: periods(list) },
  };
  if (startSchedule !== null) p.chargingSchedule.startSchedule = startSchedule ?? iso(T0 - HOUR);
  if (duration !== undefined) p.chargingSchedule.duration = duration;
  if (minChargingRate !== undefined) p.chargingSchedule.minChargingRate = minChargingRate;
  return p;
}

describe("SetChargingProfile rejections (as libocpp validate_profile)", () => {
  test("stackLevel above ChargeProfileMaxStackLevel or negative is Rejected", () => {
    const { sc } = rig({ maxStackLevel: 3 });
    expect(sc.set(1, profile({ stackLevel: 4 }))).toBe("Rejected");
    expect(sc.lastRejection).toContain("stackLevel");
    expect(sc.set(1, profile({ stackLevel: -1 }))).toBe("Rejected");
    expect(sc.set(1, profile({ stackLevel: 3 }))).toBe("Accepted");
    expect(sc.lastRejection).toBeNull();
  });

  test("more periods than ChargingScheduleMaxPeriods is Rejected", () => {
    const { sc } = rig({ maxPeriods: 2 });
    expect(sc.set(1, profile({ periods: [[0, 6], [60, 8], [120, 10]] }))).toBe("Rejected");
    expect(sc.lastRejection).toContain("ChargingScheduleMaxPeriods");
    expect(sc.set(1, profile({ periods: [[0, 6], [60, 8]] }))).toBe("Accepted");
  });

  test("a chargingRateUnit not in ChargingScheduleAllowedChargingRateUnit is Rejected", () => {
    const { sc } = rig({ allowedUnits: parseAllowedChargingRateUnits("Current") });
    expect(sc.set(1, profile({ unit: "W", periods: [[0, 11000]] }))).toBe("Rejected");
    expect(sc.lastRejection).toContain("chargingRateUnit");
    expect(sc.set(1, profile({ unit: "A" }))).toBe("Accepted");
  });

  test("a TxProfile without a transaction on its connector is Rejected", () => {
    const { sc } = rig();
    expect(sc.set(1, profile({ chargingProfilePurpose: "TxProfile" }))).toBe("Rejected");
    expect(sc.lastRejection).toContain("no transaction");
  });

  test("a TxProfile naming another transactionId is Rejected; the running one's is Accepted", () => {
    const { sc, txs } = rig();
    txs.set(1, { id: 42, startedAt: T0 - MIN });
    expect(sc.set(1, profile({ chargingProfilePurpose: "TxProfile", transactionId: 41 }))).toBe("Rejected");
    expect(sc.lastRejection).toContain("transactionId 41");
    expect(sc.set(1, profile({ chargingProfilePurpose: "TxProfile", transactionId: 42 }))).toBe("Accepted");
    expect(sc.set(1, profile({ chargingProfileId: 2, stackLevel: 1, chargingProfilePurpose: "TxProfile" }))).toBe("Accepted");
  });

  test("a TxProfile on connector 0 is Rejected", () => {
    const { sc, txs } = rig();
    txs.set(1, { id: 1, startedAt: T0 });
    expect(sc.set(0, profile({ chargingProfilePurpose: "TxProfile" }))).toBe("Rejected");
  });

  test("a ChargePointMaxProfile on a connector other than 0, or Relative, is Rejected", () => {
    const { sc } = rig();
    expect(sc.set(1, profile({ chargingProfilePurpose: "ChargePointMaxProfile" }))).toBe("Rejected");
    expect(sc.lastRejection).toContain("connector 0 only");
    expect(
      sc.set(0, profile({ chargingProfilePurpose: "ChargePointMaxProfile", chargingProfileKind: "Relative", startSchedule: null })),
    ).toBe("Rejected");
    expect(sc.set(0, profile({ chargingProfilePurpose: "ChargePointMaxProfile" }))).toBe("Accepted");
  });

  test("a connector above NumberOfConnectors (or negative) is Rejected", () => {
    const { sc } = rig({ connectors: 2 });
    expect(sc.set(3, profile())).toBe("Rejected");
    expect(sc.set(-1, profile())).toBe("Rejected");
    expect(sc.set(2, profile())).toBe("Accepted");
  });

  test("beyond MaxChargingProfilesInstalled a new profile is Rejected, a replacing one is not", () => {
    const { sc } = rig({ maxProfiles: 2 });
    expect(sc.set(1, profile({ chargingProfileId: 1, stackLevel: 1 }))).toBe("Accepted");
    expect(sc.set(1, profile({ chargingProfileId: 2, stackLevel: 2 }))).toBe("Accepted");
    expect(sc.set(1, profile({ chargingProfileId: 3, stackLevel: 3 }))).toBe("Rejected");
    expect(sc.lastRejection).toContain("MaxChargingProfilesInstalled");
    expect(sc.set(1, profile({ chargingProfileId: 2, stackLevel: 2, periods: [[0, 10]] }))).toBe("Accepted");
    expect(sc.installed()).toHaveLength(2);
  });

  test("profiles past their validTo do not count toward MaxChargingProfilesInstalled", () => {
    const { sc, clock } = rig({ maxProfiles: 1 });
    expect(sc.set(1, profile({ chargingProfileId: 1, stackLevel: 1, validTo: iso(T0 + MIN) }))).toBe("Accepted");
    clock.t = T0 + 2 * MIN;
    expect(sc.set(1, profile({ chargingProfileId: 2, stackLevel: 2 }))).toBe("Accepted");
    expect(sc.installed().map((p) => p.csChargingProfiles.chargingProfileId)).toEqual([2]);
  });

  test("Absolute or Recurring without startSchedule, Recurring without recurrencyKind are Rejected", () => {
    const { sc } = rig();
    expect(sc.set(1, profile({ startSchedule: null }))).toBe("Rejected");
    expect(sc.set(1, profile({ chargingProfileKind: "Recurring", recurrencyKind: "Daily", startSchedule: null }))).toBe("Rejected");
    expect(sc.set(1, profile({ chargingProfileKind: "Recurring" }))).toBe("Rejected");
    expect(sc.lastRejection).toContain("recurrencyKind");
    expect(sc.set(1, profile({ chargingProfileKind: "Relative", startSchedule: null }))).toBe("Accepted");
  });

  test("impossible periods are Rejected: numberPhases outside 1–3, negative limit, misordered or empty", () => {
    const { sc } = rig();
    expect(sc.set(1, profile({ periods: [[0, 16, 4]] }))).toBe("Rejected");
    expect(sc.set(1, profile({ periods: [[0, 16, 0]] }))).toBe("Rejected");
    expect(sc.set(1, profile({ periods: [[0, -1]] }))).toBe("Rejected");
    expect(sc.set(1, profile({ periods: [[10, 16]] }))).toBe("Rejected");
    expect(sc.set(1, profile({ periods: [[0, 16], [60, 10], [60, 8]] }))).toBe("Rejected");
    expect(sc.set(1, profile({ periods: [] }))).toBe("Rejected");
    expect(sc.set(1, profile({ validFrom: "yesterday" }))).toBe("Rejected");
    expect(sc.lastRejection).toContain("validFrom");
  });

  test("a Rejected profile changes nothing: no save, same limit", () => {
    const { sc, store } = rig();
    sc.set(1, profile({ periods: [[0, 10]] }));
    const saves = store.saves;
    expect(sc.set(1, profile({ chargingProfileId: 1, stackLevel: 99, periods: [[0, 6]] }))).toBe("Rejected");
    expect(store.saves).toBe(saves);
    expect(sc.limitNow(1).currentA).toBe(10);
  });
});

describe("replacing installed profiles", () => {
  test("the same chargingProfileId replaces, whatever its stack level or connector", () => {
    const { sc } = rig();
    sc.set(1, profile({ chargingProfileId: 7, stackLevel: 1, periods: [[0, 10]] }));
    sc.set(2, profile({ chargingProfileId: 7, stackLevel: 4, periods: [[0, 12]] }));
    expect(sc.installed()).toEqual([{ connectorId: 2, csChargingProfiles: expect.objectContaining({ stackLevel: 4 }) }]);
    expect(sc.limitNow(1).currentA).toBeNull();
    expect(sc.limitNow(2).currentA).toBe(12);
  });

  test("the same stackLevel and purpose on the same connector replaces; on another connector both stay", () => {
    const { sc } = rig();
    sc.set(1, profile({ chargingProfileId: 1, stackLevel: 2, periods: [[0, 10]] }));
    sc.set(1, profile({ chargingProfileId: 2, stackLevel: 2, periods: [[0, 14]] }));
    sc.set(2, profile({ chargingProfileId: 3, stackLevel: 2, periods: [[0, 6]] }));
    expect(sc.installed().map((p) => p.csChargingProfiles.chargingProfileId)).toEqual([2, 3]);
    expect(sc.limitNow(1).currentA).toBe(14);
    expect(sc.limitNow(2).currentA).toBe(6);
  });

  test("a TxDefaultProfile for all connectors (0) takes the place of per-connector ones at its stack level", () => {
    const { sc } = rig();
    sc.set(1, profile({ chargingProfileId: 1, stackLevel: 2, periods: [[0, 10]] }));
    sc.set(1, profile({ chargingProfileId: 2, stackLevel: 3, periods: [[0, 11]] }));
    sc.set(0, profile({ chargingProfileId: 3, stackLevel: 2, periods: [[0, 20]] }));
    expect(sc.installed().map((p) => p.csChargingProfiles.chargingProfileId).sort()).toEqual([2, 3]);
  });
});

describe("stacking", () => {
  test("within a purpose the highest stackLevel in force wins", () => {
    const { sc } = rig();
    sc.set(1, profile({ chargingProfileId: 1, stackLevel: 1, periods: [[0, 10]] }));
    sc.set(1, profile({ chargingProfileId: 2, stackLevel: 5, periods: [[0, 6]] }));
    expect(sc.limitNow(1).currentA).toBe(6);
  });

  test("a higher stack level whose duration has run out gives way to a lower one", () => {
    const { sc, clock } = rig();
    sc.set(1, profile({ chargingProfileId: 1, stackLevel: 1, periods: [[0, 10]] }));
    sc.set(1, profile({ chargingProfileId: 2, stackLevel: 5, periods: [[0, 6]], startSchedule: iso(T0), duration: 1800 }));
    expect(sc.limitNow(1).currentA).toBe(6);
    expect(sc.nextBoundary(1)).toBe(T0 + 30 * MIN);
    clock.t = T0 + 30 * MIN;
    expect(sc.limitNow(1).currentA).toBe(10);
  });

  test("a TxProfile overrides the TxDefaultProfile whatever their stack levels", () => {
    const { sc, txs } = rig();
    txs.set(1, { id: 5, startedAt: T0 - MIN });
    sc.set(1, profile({ chargingProfileId: 1, stackLevel: 9, periods: [[0, 10]] }));
    sc.set(1, profile({ chargingProfileId: 2, stackLevel: 0, chargingProfilePurpose: "TxProfile", periods: [[0, 20]] }));
    expect(sc.limitNow(1).currentA).toBe(20);
    expect(sc.limitNow(2).currentA).toBeNull();
  });

  test("the ChargePointMaxProfile caps every connector, and alone it is the limit", () => {
    const { sc } = rig();
    sc.set(0, profile({ chargingProfileId: 1, chargingProfilePurpose: "ChargePointMaxProfile", periods: [[0, 16]] }));
    expect(sc.limitNow(2).currentA).toBe(16);
    sc.set(1, profile({ chargingProfileId: 2, periods: [[0, 32]] }));
    expect(sc.limitNow(1).currentA).toBe(16);
    sc.set(1, profile({ chargingProfileId: 2, periods: [[0, 8]] }));
    expect(sc.limitNow(1).currentA).toBe(8);
  });

  test("the smaller numberPhases of TxProfile/TxDefault and ChargePointMax becomes the phase limit", () => {
    const { sc } = rig();
    expect(sc.limitNow(1).phases).toBeNull();
    sc.set(1, profile({ chargingProfileId: 1, periods: [[0, 16, 3]] }));
    expect(sc.limitNow(1)).toMatchObject({ currentA: 16, phases: 3 });
    sc.set(0, profile({ chargingProfileId: 2, chargingProfilePurpose: "ChargePointMaxProfile", periods: [[0, 20, 1]] }));
    expect(sc.limitNow(1)).toMatchObject({ currentA: 16, phases: 1 });
  });

  test("a connector's own TxDefaultProfile shadows the all-connectors one at the same stack level", () => {
    const { sc } = rig();
    sc.set(0, profile({ chargingProfileId: 1, stackLevel: 1, periods: [[0, 10]] }));
    sc.set(1, profile({ chargingProfileId: 2, stackLevel: 1, periods: [[0, 25]] }));
    expect(sc.limitNow(1).currentA).toBe(25);
    expect(sc.limitNow(2).currentA).toBe(10);
    sc.set(0, profile({ chargingProfileId: 3, stackLevel: 2, periods: [[0, 12]] }));
    expect(sc.limitNow(1).currentA).toBe(12);
  });

  test("no profile in force means no limit (not 48 A) [D-O 8]", () => {
    const { sc, clock } = rig();
    expect(sc.limitNow(1)).toEqual({ currentA: null, phases: null, validUntil: T0 + REFRESH_MS + VALIDITY_MARGIN_MS });
    sc.set(1, profile({ startSchedule: iso(T0), duration: 600 }));
    clock.t = T0 + 600_000;
    expect(sc.limitNow(1).currentA).toBeNull();
  });
});

describe("schedule kinds and period boundaries", () => {
  test("Absolute: periods from startSchedule, the limit changes at each boundary", () => {
    const { sc, clock } = rig();
    sc.set(1, profile({ startSchedule: iso(T0 - 30 * MIN), periods: [[0, 10], [3600, 20], [5400, 0]] }));
    expect(sc.limitNow(1).currentA).toBe(10);
    expect(sc.nextBoundary(1)).toBe(T0 + 30 * MIN);
    expect(sc.limitNow(1).validUntil).toBe(T0 + 30 * MIN + VALIDITY_MARGIN_MS);
    clock.t = T0 + 30 * MIN;
    expect(sc.limitNow(1).currentA).toBe(20);
    expect(sc.nextBoundary(1)).toBe(T0 + 60 * MIN);
    clock.t = T0 + 60 * MIN;
    expect(sc.limitNow(1).currentA).toBe(0);
    expect(sc.nextBoundary(1)).toBe(T0 + 60 * MIN + REFRESH_MS);
  });

  test("Absolute in the future: no limit until it starts; the start is the next boundary", () => {
    const { sc, clock } = rig();
    sc.set(1, profile({ startSchedule: iso(T0 + 20 * MIN), periods: [[0, 6]] }));
    expect(sc.limitNow(1).currentA).toBeNull();
    expect(sc.nextBoundary(1)).toBe(T0 + 20 * MIN);
    clock.t = T0 + 20 * MIN;
    expect(sc.limitNow(1).currentA).toBe(6);
  });

  test("Recurring Daily repeats from startSchedule's time of day, including the day before it", () => {
    const { sc, clock } = rig();
    // 08:00–18:00 UTC 6 A, then 32 A until the next 08:00
    sc.set(1, profile({
      chargingProfileKind: "Recurring",
      recurrencyKind: "Daily",
      startSchedule: "2025-03-10T08:00:00Z",
      periods: [[0, 6], [36_000, 32]],
    }));
    expect(sc.limitNow(1).currentA).toBe(6); // 10:00
    expect(sc.nextBoundary(1)).toBe(T0 + REFRESH_MS); // 18:00 is further than the refresh
    clock.t = Date.parse("2025-03-03T17:30:00Z");
    expect(sc.nextBoundary(1)).toBe(Date.parse("2025-03-03T18:00:00Z"));
    clock.t = Date.parse("2025-03-03T19:00:00Z");
    expect(sc.limitNow(1).currentA).toBe(32);
    clock.t = Date.parse("2025-03-04T07:30:00Z");
    expect(sc.limitNow(1).currentA).toBe(32);
    expect(sc.nextBoundary(1)).toBe(Date.parse("2025-03-04T08:00:00Z"));
    clock.t = Date.parse("2025-03-04T08:00:00Z");
    expect(sc.limitNow(1).currentA).toBe(6);
  });

  test("Recurring Weekly with a one-day duration limits only that weekday", () => {
    const { sc, clock } = rig();
    sc.set(1, profile({
      chargingProfileKind: "Recurring",
      recurrencyKind: "Weekly",
      startSchedule: "2025-01-06T00:00:00Z", // a Monday
      duration: 86_400,
      periods: [[0, 10]],
    }));
    expect(sc.limitNow(1).currentA).toBe(10); // Monday 10:00
    clock.t = Date.parse("2025-03-04T12:00:00Z"); // Tuesday
    expect(sc.limitNow(1).currentA).toBeNull();
    clock.t = Date.parse("2025-03-09T23:30:00Z"); // Sunday night
    expect(sc.nextBoundary(1)).toBe(Date.parse("2025-03-10T00:00:00Z"));
    clock.t = Date.parse("2025-03-10T00:00:00Z");
    expect(sc.limitNow(1).currentA).toBe(10);
  });

  test("a Recurring duration longer than its day is cut to the day, as the reference does", () => {
    const { sc } = rig();
    sc.set(1, profile({ chargingProfileKind: "Recurring", recurrencyKind: "Daily", duration: 200_000 }));
    expect(sc.installed()[0]!.csChargingProfiles.chargingSchedule.duration).toBe(86_400);
  });

  test("Relative runs from the transaction start", () => {
    const { sc, clock, txs } = rig();
    txs.set(1, { id: 3, startedAt: T0 - 10 * MIN });
    sc.set(1, profile({
      chargingProfilePurpose: "TxProfile",
      chargingProfileKind: "Relative",
      startSchedule: null,
      periods: [[0, 8], [1200, 16]],
    }));
    expect(sc.limitNow(1).currentA).toBe(8);
    expect(sc.nextBoundary(1)).toBe(T0 + 10 * MIN);
    clock.t = T0 + 10 * MIN;
    expect(sc.limitNow(1).currentA).toBe(16);
  });

  test("a Relative TxDefaultProfile without a transaction holds its first period and has no boundary of its own", () => {
    const { sc, clock, txs } = rig();
    sc.set(1, profile({ chargingProfileKind: "Relative", startSchedule: null, periods: [[0, 8], [600, 16]] }));
    expect(sc.limitNow(1).currentA).toBe(8);
    expect(sc.nextBoundary(1)).toBe(T0 + REFRESH_MS);
    clock.t = T0 + 2 * HOUR;
    expect(sc.limitNow(1).currentA).toBe(8);
    txs.set(1, { id: 1, startedAt: T0 + HOUR });
    expect(sc.limitNow(1).currentA).toBe(16);
  });

  test("validFrom and validTo bound a profile; both are boundaries", () => {
    const { sc, clock } = rig();
    sc.set(1, profile({ validFrom: iso(T0 + HOUR), validTo: iso(T0 + 90 * MIN), periods: [[0, 12]] }));
    expect(sc.limitNow(1).currentA).toBeNull();
    expect(sc.nextBoundary(1)).toBe(T0 + HOUR);
    clock.t = T0 + HOUR;
    expect(sc.limitNow(1).currentA).toBe(12);
    expect(sc.nextBoundary(1)).toBe(T0 + 90 * MIN);
    clock.t = T0 + 90 * MIN;
    expect(sc.limitNow(1).currentA).toBeNull();
  });
});

describe("amperes and watts", () => {
  test("W becomes A at 230 V × numberPhases (3 when absent)", () => {
    const { sc } = rig();
    sc.set(1, profile({ chargingProfileId: 1, unit: "W", periods: [[0, 11_040]] }));
    expect(sc.limitNow(1)).toMatchObject({ currentA: 16, phases: null });
    sc.set(2, profile({ chargingProfileId: 2, unit: "W", periods: [[0, 3680, 1]] }));
    expect(sc.limitNow(2)).toMatchObject({ currentA: 16, phases: 1 });
  });

  test("a W ChargePointMaxProfile caps an A profile per phase; the result is floored to 0.1 A", () => {
    const { sc } = rig();
    sc.set(0, profile({ chargingProfileId: 1, chargingProfilePurpose: "ChargePointMaxProfile", unit: "W", periods: [[0, 10_000]] }));
    sc.set(1, profile({ chargingProfileId: 2, periods: [[0, 32]] }));
    expect(sc.limitNow(1).currentA).toBe(14.4); // 10000 / 690 = 14.49…
  });

  test("the configured supply voltage is used for the conversion", () => {
    const { sc } = rig({ supplyVoltage: 240 });
    sc.set(1, profile({ unit: "W", periods: [[0, 5760, 1]] }));
    expect(sc.limitNow(1).currentA).toBe(24);
  });
});

describe("GetCompositeSchedule", () => {
  test("a duration crossing period boundaries lists each change, and no profile as the rated current", () => {
    const { sc, clock } = rig();
    clock.t = T0 + 400; // scheduleStart is floored to the second
    sc.set(1, profile({ startSchedule: iso(T0 + 10 * MIN), periods: [[0, 10], [1800, 20], [2400, 20, 1]], duration: 3600 }));
    expect(sc.getCompositeSchedule({ connectorId: 1, duration: 7200 })).toEqual({
      status: "Accepted",
      connectorId: 1,
      scheduleStart: iso(T0),
      chargingSchedule: {
        duration: 7200,
        startSchedule: iso(T0),
        chargingRateUnit: "A",
        chargingSchedulePeriod: [
          { startPeriod: 0, limit: 32, numberPhases: 3 },
          { startPeriod: 600, limit: 10, numberPhases: 3 },
          { startPeriod: 2400, limit: 20, numberPhases: 3 },
          { startPeriod: 3000, limit: 20, numberPhases: 1 },
          { startPeriod: 4200, limit: 32, numberPhases: 3 },
        ],
      },
    });
  });

  test("in W the composite converts at 230 V × phases; minChargingRate is reported", () => {
    const { sc } = rig();
    sc.set(1, profile({ periods: [[0, 16]], minChargingRate: 6 }));
    const s = sc.composite(1, 600, "W")!;
    expect(s.chargingSchedulePeriod).toEqual([{ startPeriod: 0, limit: 11_040, numberPhases: 3 }]);
    expect(s.minChargingRate).toBe(4140);
    expect(sc.composite(1, 600)!.minChargingRate).toBe(6);
  });

  test("a Daily recurrence shows in a two-day composite", () => {
    const { sc } = rig();
    sc.set(1, profile({
      chargingProfileKind: "Recurring",
      recurrencyKind: "Daily",
      startSchedule: "2025-03-01T12:00:00Z",
      periods: [[0, 6], [3600, 16]],
    }));
    expect(sc.composite(1, 2 * 86_400)!.chargingSchedulePeriod.map((p) => [p.startPeriod, p.limit])).toEqual([
      [0, 16],
      [7200, 6],
      [10_800, 16],
      [93_600, 6],
      [97_200, 16],
    ]);
  });

  test("a Relative profile without a transaction is shown as if the transaction started now", () => {
    const { sc } = rig();
    sc.set(1, profile({ chargingProfileKind: "Relative", startSchedule: null, periods: [[0, 8], [600, 16]] }));
    expect(sc.composite(1, 1200)!.chargingSchedulePeriod).toEqual([
      { startPeriod: 0, limit: 8, numberPhases: 3 },
      { startPeriod: 600, limit: 16, numberPhases: 3 },
    ]);
  });

  test("connector 0 reports the ChargePointMaxProfile composite alone", () => {
    const { sc } = rig();
    sc.set(0, profile({ chargingProfileId: 1, chargingProfilePurpose: "ChargePointMaxProfile", periods: [[0, 40]] }));
    sc.set(0, profile({ chargingProfileId: 2, periods: [[0, 10]] }));
    expect(sc.composite(0, 60)!.chargingSchedulePeriod).toEqual([{ startPeriod: 0, limit: 40, numberPhases: 3 }]);
    expect(sc.composite(1, 60)!.chargingSchedulePeriod).toEqual([{ startPeriod: 0, limit: 10, numberPhases: 3 }]);
  });

  test("an unknown connector or a unit not allowed is Rejected", () => {
    const { sc } = rig({ allowedUnits: ["A"] });
    expect(sc.getCompositeSchedule({ connectorId: 3, duration: 60 })).toEqual({ status: "Rejected" });
    expect(sc.getCompositeSchedule({ connectorId: -1, duration: 60 })).toEqual({ status: "Rejected" });
    expect(sc.getCompositeSchedule({ connectorId: 1, duration: 60, chargingRateUnit: "W" })).toEqual({ status: "Rejected" });
    expect(sc.getCompositeSchedule({ connectorId: 1, duration: 60, chargingRateUnit: "A" }).status).toBe("Accepted");
  });
});

describe("transactions", () => {
  test("a TxProfile is removed when its transaction ends, and the TxDefaultProfile applies again", () => {
    const { sc, txs, store } = rig();
    txs.set(1, { id: 8, startedAt: T0 });
    sc.set(1, profile({ chargingProfileId: 1, periods: [[0, 10]] }));
    sc.set(1, profile({ chargingProfileId: 2, chargingProfilePurpose: "TxProfile", periods: [[0, 20]] }));
    expect(sc.limitNow(1).currentA).toBe(20);
    txs.delete(1);
    expect(sc.transactionEnded(1)).toBe(true);
    expect(store.data.map((p) => p.csChargingProfiles.chargingProfileId)).toEqual([1]);
    expect(sc.limitNow(1).currentA).toBe(10);
    expect(sc.transactionEnded(1)).toBe(false);
  });

  test("a TxProfile bound to a transaction does not apply to the next one on that connector", () => {
    const { sc, txs } = rig();
    txs.set(1, { id: 8, startedAt: T0 });
    sc.set(1, profile({ chargingProfilePurpose: "TxProfile", transactionId: 8, periods: [[0, 20]] }));
    txs.set(1, { id: 9, startedAt: T0 + MIN });
    expect(sc.limitNow(1).currentA).toBeNull();
  });

  test("RemoteStart's TxProfile is accepted before the transaction, limits the connector from then on (also in the composite), is installed at the start and bound to the transactionId [D-O 6]", () => {
    const { sc, txs, clock } = rig();
    const relative = profile({
      chargingProfilePurpose: "TxProfile",
      chargingProfileKind: "Relative",
      startSchedule: null,
      periods: [[0, 6], [600, 12]],
    });
    expect(sc.set(0, profile({ chargingProfileId: 50, periods: [[0, 20]] }))).toBe("Accepted");
    expect(sc.setForRemoteStart(1, { ...relative, chargingProfilePurpose: "TxDefaultProfile" })).toBe("Rejected");
    expect(sc.setForRemoteStart(1, relative)).toBe("Accepted");
    // Held: the kernel gets its first period ahead of the token, so the first PWM offer carries it,
    // and GetCompositeSchedule shows what is applied (the Relative schedule runs from now).
    expect(sc.limitNow(1).currentA).toBe(6);
    expect(sc.limitNow(2).currentA).toBe(20);
    expect(sc.composite(1, 900)!.chargingSchedulePeriod.map((p) => [p.startPeriod, p.limit])).toEqual([[0, 6], [600, 12]]);
    expect(sc.composite(2, 60)!.chargingSchedulePeriod[0]!.limit).toBe(20);
    expect(sc.installed().map((p) => p.csChargingProfiles.chargingProfileId)).toEqual([50]);
    clock.t = T0 + 5 * MIN;
    expect(sc.limitNow(1).currentA).toBe(6); // a Relative schedule waits for its transaction's start
    txs.set(1, { id: -1, startedAt: clock.t }); // StartTransaction.conf not yet there
    expect(sc.transactionStarted(1)).toBe(true);
    expect(sc.limitNow(1).currentA).toBe(6);
    expect(sc.nextBoundary(1)).toBe(T0 + 15 * MIN);
    expect(sc.transactionStarted(1)).toBe(false);
    txs.set(1, { id: 77, startedAt: clock.t });
    expect(sc.bindTransaction(1, 77)).toBe(true);
    expect(sc.installed().find((p) => p.csChargingProfiles.chargingProfileId === relative.chargingProfileId)!.csChargingProfiles.transactionId).toBe(77);
    expect(sc.bindTransaction(1, 77)).toBe(false);
    expect(sc.limitNow(1).currentA).toBe(6);
    txs.set(1, { id: 78, startedAt: clock.t });
    expect(sc.limitNow(1).currentA).toBe(20); // bound: not the next transaction's
  });

  test("ClearChargingProfile clears a held RemoteStart profile by id or by its criteria", () => {
    const { sc } = rig();
    const held = profile({ chargingProfileId: 31, chargingProfilePurpose: "TxProfile", periods: [[0, 6]] });
    sc.setForRemoteStart(1, held);
    expect(sc.clear({ id: 32 })).toBe("Unknown");
    expect(sc.clear({ id: 31 })).toBe("Accepted");
    expect(sc.limitNow(1).currentA).toBeNull();
    sc.setForRemoteStart(2, { ...held, stackLevel: 4 });
    expect(sc.clear({ connectorId: 1, chargingProfilePurpose: "TxProfile" })).toBe("Unknown");
    expect(sc.clear({ connectorId: 2, stackLevel: 4 })).toBe("Accepted");
    expect(sc.limitNow(2).currentA).toBeNull();
  });

  test("a RemoteStart profile whose transaction never starts is dropped", () => {
    const { sc, txs } = rig();
    sc.setForRemoteStart(1, profile({ chargingProfilePurpose: "TxProfile", periods: [[0, 6]] }));
    expect(sc.transactionEnded(1)).toBe(true);
    txs.set(1, { id: 1, startedAt: T0 });
    expect(sc.transactionStarted(1)).toBe(false);
    expect(sc.limitNow(1).currentA).toBeNull();
  });
});

describe("ClearChargingProfile", () => {
  function installed() {
    const r = rig();
    r.sc.set(0, profile({ chargingProfileId: 1, chargingProfilePurpose: "ChargePointMaxProfile", stackLevel: 1 }));
    r.sc.set(0, profile({ chargingProfileId: 2, stackLevel: 1 }));
    r.sc.set(1, profile({ chargingProfileId: 3, stackLevel: 2 }));
    r.sc.set(2, profile({ chargingProfileId: 4, stackLevel: 1 }));
    return r;
  }
  const ids = (sc: SmartCharging) => sc.installed().map((p) => p.csChargingProfiles.chargingProfileId);

  test("no criteria clears every profile and is Accepted even when none is installed", () => {
    const { sc, store } = installed();
    expect(sc.clear({})).toBe("Accepted");
    expect(store.data).toEqual([]);
    expect(sc.clear({})).toBe("Accepted");
  });

  test("an id clears that profile alone; an unknown id is Unknown even if other criteria match", () => {
    const { sc } = installed();
    expect(sc.clear({ id: 3, connectorId: 2 })).toBe("Accepted");
    expect(ids(sc)).toEqual([1, 2, 4]);
    expect(sc.clear({ id: 99, chargingProfilePurpose: "TxDefaultProfile" })).toBe("Unknown");
    expect(ids(sc)).toEqual([1, 2, 4]);
  });

  test("connectorId, purpose and stackLevel must all match", () => {
    const { sc } = installed();
    expect(sc.clear({ connectorId: 1, stackLevel: 1 })).toBe("Unknown");
    expect(sc.clear({ chargingProfilePurpose: "TxDefaultProfile", stackLevel: 1 })).toBe("Accepted");
    expect(ids(sc)).toEqual([1, 3]);
    expect(sc.clear({ connectorId: 0 })).toBe("Accepted");
    expect(ids(sc)).toEqual([3]);
    expect(sc.clear({ chargingProfilePurpose: "TxProfile" })).toBe("Unknown");
  });
});

describe("persistence", () => {
  test("installed profiles survive a restart through the store", () => {
    const store = new MemoryProfileStore();
    const first = rig({}, store);
    first.sc.set(0, profile({ chargingProfileId: 1, chargingProfilePurpose: "ChargePointMaxProfile", periods: [[0, 16, 1]] }));
    first.sc.set(1, profile({ chargingProfileId: 2, unit: "W", periods: [[0, 11_040], [5400, 6900]] }));
    const second = rig({}, store);
    expect(second.sc.installed()).toEqual(first.sc.installed());
    expect(second.sc.limitNow(1)).toEqual(first.sc.limitNow(1));
    expect(second.sc.limitNow(1)).toMatchObject({ currentA: 16, phases: 1 });
    expect(second.sc.nextBoundary(1)).toBe(T0 + 30 * MIN);
    second.clock.t = T0 + 30 * MIN;
    expect(second.sc.limitNow(1)).toMatchObject({ currentA: 10, phases: 1 });
  });

  test("changing the caller's object after set changes nothing installed", () => {
    const { sc, store } = rig();
    const p = profile({ periods: [[0, 10]] });
    sc.set(1, p);
    p.chargingSchedule.chargingSchedulePeriod[0]!.limit = 99;
    expect(sc.limitNow(1).currentA).toBe(10);
    expect(store.data[0]!.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]!.limit).toBe(10);
  });
});

describe("toEnforcedLimits", () => {
  test("a limit becomes ac_max_current_A with ac_max_phase_count and valid_until, valid for the kernel", () => {
    const { sc } = rig();
    sc.set(1, profile({ startSchedule: iso(T0 - HOUR), periods: [[0, 16, 1], [7200, 10]] }));
    const limits = toEnforcedLimits("evse-1", sc.limitNow(1), sc.composite(1, 7200));
    expect(v.parse(EnforcedLimitsSchema, limits)).toEqual({
      uuid: "evse-1",
      valid_until: iso(T0 + HOUR + VALIDITY_MARGIN_MS),
      limits_root_side: { ac_max_current_A: 16, ac_max_phase_count: 1 },
      schedule: [
        { timestamp: iso(T0), limits_to_root: { ac_max_current_A: 16, ac_max_phase_count: 1 } },
        { timestamp: iso(T0 + HOUR), limits_to_root: { ac_max_current_A: 10, ac_max_phase_count: 3 } },
      ],
    });
  });

  test("no limit is the largest current the kernel accepts, never an object that means 0 A", () => {
    const { sc } = rig();
    const limits = toEnforcedLimits("evse-1", sc.limitNow(1));
    expect(limits.limits_root_side).toEqual({ ac_max_current_A: NO_LIMIT_A });
    expect(NO_LIMIT_A).toBe(1000);
    expect(limits.schedule).toBeUndefined();
  });

  test("ChargingScheduleAllowedChargingRateUnit words map to units", () => {
    expect(parseAllowedChargingRateUnits("Current,Power")).toEqual(["A", "W"]);
    expect(parseAllowedChargingRateUnits("Power")).toEqual(["W"]);
    expect(parseAllowedChargingRateUnits("")).toEqual([]);
  });
});
