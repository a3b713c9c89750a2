// The smart-charging adapter (ocpp/smart-charging-adapter.ts, ocpp.md §5.7): the SmartCharging
// configuration keys are honoured, profiles survive a restart in the OCPP key-value table, a
// RemoteStart profile limits the connector ahead of its transaction and is installed with it [D-O 6],
// limits reach enforce_limits at once and at period boundaries [D-O 7], and "no limit" [D-O 8] is
// sent only to a connector that had one.
import { afterEach, describe, expect, test } from "bun:test";
import * as v from "valibot";
import { EnforcedLimitsSchema, type EnforcedLimits } from "../core/types/index.ts";
import { OcppConfiguration } from "../ocpp/configuration.ts";
import { SmartChargingAdapter, type ChargingProfile } from "../ocpp/smart-charging-adapter.ts";
import { NO_LIMIT_A } from "../ocpp/smart-charging/index.ts";
import { openStore } from "../store/index.ts";

const stores: ReturnType<typeof openStore>[] = [];
const adapters: SmartChargingAdapter[] = [];
afterEach(() => {
  for (const a of adapters.splice(0)) a.stop();
  for (const s of stores.splice(0)) s.close();
});

function rig(keys: Record<string, string> = {}, store = openStore(":memory:"), connectors = 2) {
  if (!stores.includes(store)) stores.push(store);
  const sent: { connector: number; limits: EnforcedLimits }[] = [];
  const transactions = new Map<number, { id: number; startedAt: number }>();
  const adapter = new SmartChargingAdapter({
    kv: store.ocpp.kv,
    config: new OcppConfiguration(store.ocpp.kv, keys, connectors),
    connectors,
    ratedCurrentA: 32,
    now: () => Date.now(),
    transactionOf: (c) => transactions.get(c) ?? null,
    enforceLimits: async (connector, limits) => {
      sent.push({ connector, limits });
    },
    log: () => {},
  });
  adapters.push(adapter);
  return { adapter, sent, transactions, store };
}

const profile = (over: Partial<ChargingProfile>, periods: [number, number][], startSchedule = new Date(Date.now() - 1000).toISOString()): ChargingProfile => ({
  chargingProfileId: 1,
  stackLevel: 0,
  chargingProfilePurpose: "TxDefaultProfile",
  chargingProfileKind: "Absolute",
  ...over,
  chargingSchedule: { chargingRateUnit: "A", startSchedule, chargingSchedulePeriod: periods.map(([startPeriod, limit]) => ({ startPeriod, limit })) },
});

const amps = (x: { limits: EnforcedLimits }) => x.limits.limits_root_side?.ac_max_current_A;

describe("smart charging adapter", () => {
  test("a TxDefaultProfile for connector 0 reaches every connector's enforce_limits at once, as a valid EnforcedLimits with the forecast", () => {
    const { adapter, sent } = rig();
    expect(adapter.set(0, profile({}, [[0, 10]]))).toBe("Accepted");
    expect(sent.map((s) => [s.connector, amps(s)])).toEqual([
      [1, 10],
      [2, 10],
    ]);
    for (const s of sent) {
      expect(v.safeParse(EnforcedLimitsSchema, s.limits).success).toBe(true);
      expect(Date.parse(s.limits.valid_until)).toBeGreaterThan(Date.now());
      expect(s.limits.schedule?.[0]?.limits_to_root.ac_max_current_A).toBe(10);
    }
  });

  test("the SmartCharging keys from the config file bound what is accepted", () => {
    const { adapter, sent } = rig({ ChargeProfileMaxStackLevel: "2", ChargingScheduleAllowedChargingRateUnit: "Current", ChargingScheduleMaxPeriods: "2", MaxChargingProfilesInstalled: "1" });
    expect(adapter.set(1, profile({ stackLevel: 3 }, [[0, 10]]))).toBe("Rejected");
    const watts = profile({}, [[0, 6900]]);
    watts.chargingSchedule.chargingRateUnit = "W";
    expect(adapter.set(1, watts)).toBe("Rejected");
    expect(adapter.set(1, profile({}, [[0, 10], [60, 8], [120, 6]]))).toBe("Rejected");
    expect(adapter.set(3, profile({}, [[0, 10]]))).toBe("Rejected"); // NumberOfConnectors 2
    expect(adapter.set(1, profile({ stackLevel: 2 }, [[0, 10]]))).toBe("Accepted");
    expect(adapter.set(2, profile({ chargingProfileId: 2 }, [[0, 10]]))).toBe("Rejected"); // one profile at most
    expect(adapter.getCompositeSchedule({ connectorId: 1, duration: 60, chargingRateUnit: "W" })).toEqual({ status: "Rejected" });
    expect(sent.map((s) => s.connector)).toEqual([1]);
  });

  test("profiles persist in the OCPP key-value table and apply again after a restart", () => {
    const first = rig();
    expect(first.adapter.set(0, profile({ chargingProfilePurpose: "ChargePointMaxProfile" }, [[0, 13]]))).toBe("Accepted");
    first.adapter.stop();
    const second = rig({}, first.store);
    second.adapter.applyAll();
    expect(second.sent.map((s) => [s.connector, amps(s)])).toEqual([
      [1, 13],
      [2, 13],
    ]);
  });

  test("ClearChargingProfile lifts the limit: 'no limit' (the largest grant) goes only to connectors that had one, and is kept fresh", () => {
    const { adapter, sent } = rig();
    expect(adapter.set(1, profile({}, [[0, 10]]))).toBe("Accepted");
    sent.length = 0;
    expect(adapter.clear({})).toBe("Accepted");
    expect(sent.map((s) => [s.connector, amps(s)])).toEqual([[1, NO_LIMIT_A]]);
    adapter.applyAll(); // the hourly refresh: connector 1 again, connector 2 still never
    expect(sent.map((s) => [s.connector, amps(s)])).toEqual([
      [1, NO_LIMIT_A],
      [1, NO_LIMIT_A],
    ]);
  });

  test("at a period boundary the next limit is applied by the connector's timer", async () => {
    const { adapter, sent } = rig();
    const start = Date.now() - 1000;
    // Whole seconds: the schedule starts at `start` floored; the boundary is 2 s after it.
    const startS = Math.floor(start / 1000) * 1000;
    expect(adapter.set(1, profile({}, [[0, 16], [2, 8]], new Date(startS).toISOString()))).toBe("Accepted");
    expect(sent.map(amps)).toEqual([16]);
    for (let i = 0; i < 60 && sent.length < 2; i++) await Bun.sleep(50);
    expect(sent.map(amps)).toEqual([16, 8]);
    expect(Date.now()).toBeGreaterThanOrEqual(startS + 2000);
  });

  test("a RemoteStart TxProfile reaches enforce_limits before its transaction starts, is installed at the start, bound to the transactionId, and goes with the transaction [D-O 6]", () => {
    const { adapter, sent, transactions, store } = rig();
    const tx = profile({ chargingProfileId: 7, chargingProfilePurpose: "TxProfile", chargingProfileKind: "Relative" }, [[0, 8]]);
    expect(adapter.set(1, tx)).toBe("Rejected"); // no transaction
    expect(adapter.setForRemoteStart(1, { ...tx, chargingProfilePurpose: "TxDefaultProfile" })).toBe("Rejected");
    expect(sent).toEqual([]);
    expect(adapter.setForRemoteStart(1, tx)).toBe("Accepted");
    // In the kernel ahead of the token: the session's first PWM offer is at 8 A, and the composite says so.
    expect(sent.map((s) => [s.connector, amps(s)])).toEqual([[1, 8]]);
    expect(adapter.getCompositeSchedule({ connectorId: 1, duration: 60 })).toMatchObject({ chargingSchedule: { chargingSchedulePeriod: [{ startPeriod: 0, limit: 8 }] } });
    transactions.set(1, { id: -1, startedAt: Date.now() });
    adapter.transactionStarted(1);
    expect(sent.map((s) => [s.connector, amps(s)])).toEqual([[1, 8], [1, 8]]);
    transactions.set(1, { id: 42, startedAt: Date.now() });
    adapter.transactionIdKnown(1, 42);
    expect(sent.map(amps)).toEqual([8, 8, 8]);
    expect((store.ocpp.kv.get("ocpp.charging_profiles") as any[]).find((p) => p.csChargingProfiles.chargingProfileId === 7).csChargingProfiles.transactionId).toBe(42);
    transactions.delete(1);
    adapter.transactionEnded(1);
    expect(sent.map(amps)).toEqual([8, 8, 8, NO_LIMIT_A]);
  });

  test("ClearChargingProfile of a held RemoteStart profile lifts its limit at once", () => {
    const { adapter, sent } = rig();
    const tx = profile({ chargingProfileId: 12, chargingProfilePurpose: "TxProfile", chargingProfileKind: "Relative" }, [[0, 8]]);
    expect(adapter.setForRemoteStart(1, tx)).toBe("Accepted");
    expect(adapter.clear({ id: 12 })).toBe("Accepted");
    expect(sent.map(amps)).toEqual([8, NO_LIMIT_A]);
  });

  test("a RemoteStart that did not lead to an authorization drops its profile and its limit", () => {
    const { adapter, sent, transactions } = rig();
    const tx = profile({ chargingProfilePurpose: "TxProfile", chargingProfileKind: "Relative" }, [[0, 8]]);
    expect(adapter.setForRemoteStart(1, tx)).toBe("Accepted");
    adapter.dropRemoteStartProfile(1);
    expect(sent.map(amps)).toEqual([8, NO_LIMIT_A]);
    adapter.dropRemoteStartProfile(1); // nothing held any more
    transactions.set(1, { id: 43, startedAt: Date.now() });
    adapter.transactionStarted(1);
    expect(sent.map(amps)).toEqual([8, NO_LIMIT_A, NO_LIMIT_A]); // kept fresh, never 8 again
  });
});
