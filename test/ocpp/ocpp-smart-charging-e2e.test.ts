// Smart charging against a real CSMS (ocpp.md §5.7; ocpp-rpc RPCServer with strict OCPP 1.6 schema
// validation, under Node): charging profiles the CSMS sets reach the control pilot as a PWM duty
// (behavior.md §7.4: 10 A → 16.67 %), at once within the PWM-change rate rule and again at every
// period boundary [D-O 7]; GetCompositeSchedule answers what is applied; ClearChargingProfile lifts
// it; where no profile applies there is no limit [D-O 8].
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type TestServer } from "../helpers/server.ts";
import { ocppConfig, RFID, slots, startCsms, type Csms } from "./csms.ts";

setDefaultTimeout(180_000);
const slot = slots(2);
const PLUG_CHARGE = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 6,3;sleep 36000";
/** behavior.md §7.4 worked values */
const DUTY = { 8: 13.33, 10: 16.67, 20: 33.33, 32: 53.33 } as const;
/** The PWM-change rate rule (5 s) plus a pass and a loaded machine's slack. */
const PWM_CHANGE_MS = 10_000;

const started: (Csms | TestServer)[] = [];
afterAll(async () => {
  await Promise.allSettled(started.map((x) => x.stop()));
});

async function pair(keys: Record<string, unknown> = {}) {
  const csms = await startCsms();
  started.push(csms);
  const srv = await startServer({ config: ocppConfig(csms, keys), waitReady: true, timeoutMs: 60_000, exe: "binary" });
  started.push(srv);
  await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Available", 30_000);
  return { csms, srv };
}

const duty = async (srv: TestServer): Promise<number> => (await srv.get("/api/v1/evses/1/sim")).body.pwm_duty_percent;

/** Polls the simulated board's PWM until it is `want` (±0.05 %); returns when it was first seen. */
async function dutyBecomes(srv: TestServer, want: number, timeoutMs = PWM_CHANGE_MS): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = NaN;
  for (;;) {
    last = await duty(srv);
    if (Math.abs(last - want) < 0.05) return Date.now();
    if (Date.now() > deadline) throw new Error(`PWM duty stayed ${last} %, not ${want} %, for ${timeoutMs} ms`);
    await Bun.sleep(100);
  }
}

/** A running, charging transaction on connector 1 at the configured maximum (32 A); its CSMS id. */
async function charging(csms: Csms, srv: TestServer): Promise<{ transactionId: number; startedAt: number }> {
  await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
  await csms.waitCall("StatusNotification", (p) => p.status === "Preparing");
  expect((await srv.post("/api/v1/tokens", RFID("RFID0001"))).body.result).toBe("Authorized");
  const start = await csms.waitCall("StartTransaction");
  await csms.waitCall("StatusNotification", (p) => p.status === "Charging");
  await dutyBecomes(srv, DUTY[32]);
  return { transactionId: 1000, startedAt: Date.parse(start.timestamp) };
}

const profile = (over: Record<string, unknown>, periods: [number, number][], schedule: Record<string, unknown> = {}) => ({
  chargingProfileId: 1,
  stackLevel: 0,
  chargingProfilePurpose: "TxDefaultProfile",
  chargingProfileKind: "Absolute",
  ...over,
  chargingSchedule: {
    chargingRateUnit: "A",
    startSchedule: new Date(Date.now() - 1000).toISOString(),
    ...schedule,
    chargingSchedulePeriod: periods.map(([startPeriod, limit]) => ({ startPeriod, limit })),
  },
});

const setProfile = async (csms: Csms, connectorId: number, p: unknown) => (await csms.call("SetChargingProfile", { connectorId, csChargingProfiles: p })).result;

async function noSchemaFailures(csms: Csms): Promise<void> {
  expect((await csms.log()).filter((e) => e.type === "strict_failure")).toEqual([]);
}

describe.concurrent("OCPP smart charging against a real CSMS", () => {
  test("TxDefaultProfile of 10 A: the PWM goes to 16.7 %, GetCompositeSchedule answers 10 A, ClearChargingProfile gives the full current back", () =>
    slot(async () => {
      const { csms, srv } = await pair();
      await charging(csms, srv);
      expect(await setProfile(csms, 0, profile({ chargingProfileId: 7 }, [[0, 10]]))).toEqual({ status: "Accepted" });
      await dutyBecomes(srv, DUTY[10]);
      expect((await srv.get("/api/v1/evses/1/sim")).body.relays_closed).toBe(true);

      const composite = (await csms.call("GetCompositeSchedule", { connectorId: 1, duration: 600 })).result;
      expect(composite).toMatchObject({ status: "Accepted", connectorId: 1, chargingSchedule: { chargingRateUnit: "A", duration: 600 } });
      expect(composite.chargingSchedule.chargingSchedulePeriod).toEqual([{ startPeriod: 0, limit: 10, numberPhases: 3 }]);
      const watts = (await csms.call("GetCompositeSchedule", { connectorId: 1, duration: 600, chargingRateUnit: "W" })).result;
      expect(watts.chargingSchedule.chargingSchedulePeriod[0].limit).toBe(6900); // 10 A × 230 V × 3
      expect((await csms.call("GetCompositeSchedule", { connectorId: 2, duration: 600 })).result).toEqual({ status: "Rejected" });

      expect((await csms.call("ClearChargingProfile", { id: 99 })).result).toEqual({ status: "Unknown" });
      expect((await csms.call("ClearChargingProfile", { id: 7 })).result).toEqual({ status: "Accepted" });
      // No profile, no limit [D-O 8]: back to the configured 32 A, not a 48 A default or 0 A.
      await dutyBecomes(srv, DUTY[32]);
      const after = (await csms.call("GetCompositeSchedule", { connectorId: 1, duration: 60 })).result;
      expect(after.chargingSchedule.chargingSchedulePeriod).toEqual([{ startPeriod: 0, limit: 32, numberPhases: 3 }]);
      expect(srv.output.some((l) => /SetChargingProfile TxDefaultProfile id=7 on connector 0 Accepted/.test(l))).toBe(true);
      await noSchemaFailures(csms);
    }));

  test("TxProfile: Rejected without a transaction and for another transactionId; Accepted for the running one, and removed when it ends", () =>
    slot(async () => {
      const { csms, srv } = await pair();
      const tx = profile({ chargingProfileId: 3, chargingProfilePurpose: "TxProfile", chargingProfileKind: "Relative" }, [[0, 8]], { startSchedule: undefined });
      expect(await setProfile(csms, 1, tx)).toEqual({ status: "Rejected" });
      expect(srv.output.some((l) => /TxProfile id=3 on connector 1 Rejected: no transaction runs on connector 1/.test(l))).toBe(true);
      const { transactionId } = await charging(csms, srv);
      expect(await setProfile(csms, 0, tx)).toEqual({ status: "Rejected" });
      expect(await setProfile(csms, 1, { ...tx, transactionId: transactionId + 1 })).toEqual({ status: "Rejected" });
      expect(await setProfile(csms, 1, { ...tx, stackLevel: 101 })).toEqual({ status: "Rejected" }); // ChargeProfileMaxStackLevel 100
      expect(await setProfile(csms, 1, { ...tx, transactionId })).toEqual({ status: "Accepted" });
      await dutyBecomes(srv, DUTY[8]);

      expect((await srv.post("/api/v1/tokens", RFID("RFID0001"))).body.result).toBe("Stopped");
      await csms.waitCall("StopTransaction");
      const composite = (await csms.call("GetCompositeSchedule", { connectorId: 1, duration: 60 })).result;
      expect(composite.chargingSchedule.chargingSchedulePeriod).toEqual([{ startPeriod: 0, limit: 32, numberPhases: 3 }]);
      await noSchemaFailures(csms);
    }));

  test("Absolute profile: the duty changes at the period boundary, not before", () =>
    slot(async () => {
      const { csms, srv } = await pair();
      await charging(csms, srv);
      const start = Date.now();
      const boundary = start + 14_000;
      const p = profile({ chargingProfileId: 5 }, [[0, 20], [14, 10]], { startSchedule: new Date(start).toISOString().replace(/\.\d+Z$/, ".000Z") });
      const boundaryAt = Date.parse((p.chargingSchedule as { startSchedule: string }).startSchedule) + 14_000;
      expect(boundaryAt).toBeLessThanOrEqual(boundary);
      expect(await setProfile(csms, 1, p)).toEqual({ status: "Accepted" });
      await dutyBecomes(srv, DUTY[20]);
      const seen = await dutyBecomes(srv, DUTY[10], 30_000);
      expect(seen).toBeGreaterThanOrEqual(boundaryAt);
      expect(seen - boundaryAt).toBeLessThan(PWM_CHANGE_MS);
      const composite = (await csms.call("GetCompositeSchedule", { connectorId: 1, duration: 60 })).result;
      expect(composite.chargingSchedule.chargingSchedulePeriod[0].limit).toBe(10);
      await noSchemaFailures(csms);
    }));

  test("Relative profile: periods count from the transaction's start, the duty changes at the boundary", () =>
    slot(async () => {
      const { csms, srv } = await pair();
      const { startedAt } = await charging(csms, srv);
      const offsetS = Math.ceil((Date.now() - startedAt) / 1000) + 14;
      // Times are whole seconds in OCPP: the schedule starts at the transaction's start, floored.
      const boundaryAt = Math.floor(startedAt / 1000) * 1000 + offsetS * 1000;
      const p = profile({ chargingProfileId: 6, chargingProfileKind: "Relative", stackLevel: 2 }, [[0, 20], [offsetS, 10]], { startSchedule: undefined });
      expect(await setProfile(csms, 1, p)).toEqual({ status: "Accepted" });
      await dutyBecomes(srv, DUTY[20]);
      const seen = await dutyBecomes(srv, DUTY[10], 30_000);
      expect(seen).toBeGreaterThanOrEqual(boundaryAt);
      expect(seen - boundaryAt).toBeLessThan(PWM_CHANGE_MS);
      await noSchemaFailures(csms);
    }));

  test("RemoteStartTransaction chargingProfile: in force and in the composite schedule from the RemoteStart, installed when that transaction starts [D-O 6]; a TxDefaultProfile there is Rejected", () =>
    slot(async () => {
      const { csms, srv } = await pair();
      const wrong = profile({ chargingProfileId: 9 }, [[0, 8]]);
      expect((await csms.call("RemoteStartTransaction", { connectorId: 1, idTag: "REMOTE1", chargingProfile: wrong })).result).toEqual({ status: "Rejected" });
      const tx = profile({ chargingProfileId: 9, chargingProfilePurpose: "TxProfile", chargingProfileKind: "Relative" }, [[0, 8]], { startSchedule: undefined });
      expect((await csms.call("RemoteStartTransaction", { connectorId: 1, idTag: "REMOTE1", chargingProfile: tx })).result).toEqual({ status: "Accepted" });
      // Held, and already what the kernel enforces: shown in the composite as libocpp does (a Relative
      // schedule without its transaction runs from now).
      const before = (await csms.call("GetCompositeSchedule", { connectorId: 1, duration: 60 })).result;
      expect(before.chargingSchedule.chargingSchedulePeriod).toEqual([{ startPeriod: 0, limit: 8, numberPhases: 3 }]);
      await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
      await csms.waitCall("StartTransaction", (p) => p.idTag === "REMOTE1");
      await csms.waitCall("StatusNotification", (p) => p.status === "Charging");
      await dutyBecomes(srv, DUTY[8]);
      const composite = (await csms.call("GetCompositeSchedule", { connectorId: 1, duration: 60 })).result;
      expect(composite.chargingSchedule.chargingSchedulePeriod[0].limit).toBe(8);
      await noSchemaFailures(csms);
    }));

  test("profiles persist: a ChargePointMaxProfile survives a restart of the charge point and caps the next session", () =>
    slot(async () => {
      const csms = await startCsms();
      started.push(csms);
      const dir = mkdtempSync(join(tmpdir(), "ocpp-sc-"));
      const config = { ...ocppConfig(csms), storage: { path: join(dir, "store.db") } };
      const first = await startServer({ config, waitReady: true, timeoutMs: 60_000, exe: "binary" });
      started.push(first);
      await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Available", 30_000);
      const cap = profile({ chargingProfileId: 11, chargingProfilePurpose: "ChargePointMaxProfile" }, [[0, 10]]);
      expect(await setProfile(csms, 1, cap)).toEqual({ status: "Rejected" }); // connector 0 only
      expect(await setProfile(csms, 0, cap)).toEqual({ status: "Accepted" });
      expect(await first.stop()).toBe(0);

      const second = await startServer({ config, waitReady: true, timeoutMs: 60_000, exe: "binary" });
      started.push(second);
      for (let i = 0; i < 300 && (await csms.log()).filter((e) => e.type === "connected").length < 2; i++) await Bun.sleep(100);
      await second.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
      await csms.waitCall("StatusNotification", (p) => p.status === "Preparing", 30_000);
      expect((await second.post("/api/v1/tokens", RFID("RFID0001"))).body.result).toBe("Authorized");
      await dutyBecomes(second, DUTY[10]);
      const composite = (await csms.call("GetCompositeSchedule", { connectorId: 0, duration: 60 })).result;
      expect(composite.chargingSchedule.chargingSchedulePeriod[0].limit).toBe(10);
      await noSchemaFailures(csms);
    }));
});
