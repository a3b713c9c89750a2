// CSMS-initiated operations (ocpp.md §5) against a real CSMS (ocpp-rpc, strict schemas), each with
// its accept and reject paths and its effect seen through the product's HTTP API or the CSMS.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { startServer, type TestServer } from "../helpers/server.ts";
import { ocppConfig, RFID, slots, startCsms, type Csms } from "./csms.ts";

setDefaultTimeout(240_000);
const slot = slots(2);
const PLUG_CHARGE = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000";
const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  await Promise.allSettled(cleanup.map((f) => f()));
});

async function pair(keys: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<{ csms: Csms; srv: TestServer }> {
  const csms = await startCsms();
  cleanup.push(() => csms.stop());
  const srv = await startServer({ config: ocppConfig(csms, keys, extra), waitReady: true, timeoutMs: 60_000, exe: "binary" });
  cleanup.push(() => {
    // What the charge point said about refused tokens and faults, to explain a failure.
    for (const line of srv.output) if (/no EVSE can take|Faulted|raised/.test(line)) process.stderr.write(`[server] ${line}\n`);
    return srv.stop();
  });
  await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Available", 30_000);
  return { csms, srv };
}

const lastStatus = async (csms: Csms, connectorId = 1) => (await csms.calls("StatusNotification")).filter((p) => p.connectorId === connectorId).at(-1)?.status;

async function statusBecomes(csms: Csms, status: string, connectorId = 1, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await lastStatus(csms, connectorId)) !== status) {
    if (Date.now() > deadline) throw new Error(`connector ${connectorId} did not become ${status}; last ${await lastStatus(csms, connectorId)}`);
    await Bun.sleep(100);
  }
}

/** Waits out a Faulted caused by a starved machine (the real-time worker missing its heartbeat). */
async function notFaulted(csms: Csms, connectorId = 1): Promise<void> {
  for (let i = 0; i < 100 && (await lastStatus(csms, connectorId)) === "Faulted"; i++) await Bun.sleep(100);
}

async function charging(csms: Csms, srv: TestServer, tag = "RFID0001"): Promise<any> {
  await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
  await statusBecomes(csms, "Preparing");
  expect((await srv.post("/api/v1/tokens", RFID(tag))).body.result).toBe("Authorized");
  const start = await csms.waitCall("StartTransaction", (p) => p.idTag === tag);
  await statusBecomes(csms, "Charging");
  return start;
}

describe.concurrent("CSMS operations", () => {
  test("Get/ChangeConfiguration and ChangeAvailability: unknown, read-only and bad values refused; availability and keys persist across a restart", () =>
    slot(async () => {
      const dir = mkdtempSync(join(tmpdir(), "ocpp-ops-"));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const csms = await startCsms();
      cleanup.push(() => csms.stop());
      const config = ocppConfig(csms, { HeartbeatInterval: 600 }, { storage: { path: join(dir, "s.sqlite") } });
      let srv = await startServer({ config, waitReady: true, timeoutMs: 60_000, exe: "binary" });
      cleanup.push(() => srv.stop());
      await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Available", 30_000);

      const all = (await csms.call("GetConfiguration", {})).result;
      const keys = Object.fromEntries(all.configurationKey.map((k: any) => [k.key, k]));
      expect(keys.NumberOfConnectors).toEqual({ key: "NumberOfConnectors", readonly: true, value: "1" });
      expect(keys.SupportedFeatureProfiles.value).toBe("Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger");
      expect(keys.MeterValueSampleInterval.value).toBe("0"); // from the config file
      expect(keys.HeartbeatInterval.value).toBe("300"); // BootNotification.conf interval wins
      expect((await csms.call("GetConfiguration", { key: ["ConnectionTimeOut", "NoSuchKey"] })).result).toEqual({
        configurationKey: [{ key: "ConnectionTimeOut", readonly: false, value: "60" }],
        unknownKey: ["NoSuchKey"],
      });
      expect((await csms.call("ChangeConfiguration", { key: "NoSuchKey", value: "1" })).result).toEqual({ status: "NotSupported" });
      expect((await csms.call("ChangeConfiguration", { key: "NumberOfConnectors", value: "3" })).result).toEqual({ status: "Rejected" });
      expect((await csms.call("ChangeConfiguration", { key: "MeterValueSampleInterval", value: "soon" })).result).toEqual({ status: "Rejected" });
      expect((await csms.call("ChangeConfiguration", { key: "MeterValuesSampledData", value: "Energy.Active.Import.Register,Bogus" })).result).toEqual({ status: "Rejected" });
      expect((await csms.call("ChangeConfiguration", { key: "StopTransactionOnEVSideDisconnect", value: "false" })).result).toEqual({ status: "Rejected" });
      expect((await csms.call("ChangeConfiguration", { key: "ConnectionTimeOut", value: "45" })).result).toEqual({ status: "Accepted" });

      expect((await csms.call("ChangeAvailability", { connectorId: 2, type: "Inoperative" })).result).toEqual({ status: "Rejected" });
      expect((await csms.call("ChangeAvailability", { connectorId: 1, type: "Inoperative" })).result).toEqual({ status: "Accepted" });
      await statusBecomes(csms, "Unavailable");
      expect((await srv.post("/api/v1/tokens", RFID("RFID0001"))).body.result).toBe("NoConnectorAvailable");

      await srv.stop();
      srv = await startServer({ config, waitReady: true, timeoutMs: 60_000, exe: "binary" });
      cleanup.push(() => srv.stop());
      await csms.waitFor((e) => e.type === "connected" && e.seq > 0, 30_000);
      const boots = async () => (await csms.calls("BootNotification")).length;
      for (let i = 0; i < 300 && (await boots()) < 2; i++) await Bun.sleep(100);
      await statusBecomes(csms, "Unavailable");
      expect((await csms.call("GetConfiguration", { key: ["ConnectionTimeOut"] })).result.configurationKey[0].value).toBe("45");
      expect((await csms.call("ChangeAvailability", { connectorId: 0, type: "Operative" })).result).toEqual({ status: "Accepted" });
      expect((await csms.call("ChangeAvailability", { connectorId: 1, type: "Operative" })).result).toEqual({ status: "Accepted" });
      await statusBecomes(csms, "Available");
    }));

  test("ChangeAvailability during a transaction is Scheduled and applied when the StopTransaction is acknowledged; UnlockConnector stops first, unknown connector NotSupported", () =>
    slot(async () => {
      const { csms, srv } = await pair();
      await charging(csms, srv);
      expect((await csms.call("UnlockConnector", { connectorId: 3 })).result).toEqual({ status: "NotSupported" });
      expect((await csms.call("UnlockConnector", { connectorId: 1 })).result).toEqual({ status: "Unlocked" });
      expect((await csms.waitCall("StopTransaction")).reason).toBe("UnlockCommand");
      // The board reports the unlocked connector on its next cycle.
      for (let i = 0; i < 50 && (await srv.get("/api/v1/evses/1/sim")).body.locked !== false; i++) await Bun.sleep(100);
      expect((await srv.get("/api/v1/evses/1/sim")).body).toMatchObject({ relays_closed: false, locked: false });
      await srv.post("/api/v1/evses/1/sim/car", { script: "unplug", replace: true });
      await statusBecomes(csms, "Available");

      await charging(csms, srv, "RFID0002");
      expect((await csms.call("ChangeAvailability", { connectorId: 1, type: "Inoperative" })).result).toEqual({ status: "Scheduled" });
      await Bun.sleep(500);
      expect(await lastStatus(csms)).toBe("Charging");
      expect((await srv.post("/api/v1/tokens", RFID("RFID0002"))).body.result).toBe("Stopped");
      expect((await csms.waitCall("StopTransaction", (p) => p.reason === "Local")).idTag).toBe("RFID0002");
      await statusBecomes(csms, "Unavailable");
    }));

  test("reservations: ReserveNow rejects bad connectors, Occupied when plugged; the reserved token gets the EVSE with reservationId, others do not; CancelReservation; expiry ends it", () =>
    slot(async () => {
      const { csms, srv } = await pair();
      const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();
      expect((await csms.call("ReserveNow", { connectorId: 0, expiryDate: inSeconds(60), idTag: "OWNER", reservationId: 1 })).result).toEqual({ status: "Rejected" });
      expect((await csms.call("ReserveNow", { connectorId: 2, expiryDate: inSeconds(60), idTag: "OWNER", reservationId: 1 })).result).toEqual({ status: "Rejected" });
      expect((await csms.call("CancelReservation", { reservationId: 77 })).result).toEqual({ status: "Rejected" });

      // cancelled
      await notFaulted(csms);
      expect((await csms.call("ReserveNow", { connectorId: 1, expiryDate: inSeconds(60), idTag: "OWNER", reservationId: 5 })).result).toEqual({ status: "Accepted" });
      await statusBecomes(csms, "Reserved");
      expect((await csms.call("CancelReservation", { reservationId: 5 })).result).toEqual({ status: "Accepted" });
      await statusBecomes(csms, "Available");

      // expired
      await notFaulted(csms);
      expect((await csms.call("ReserveNow", { connectorId: 1, expiryDate: inSeconds(2), idTag: "OWNER", reservationId: 6 })).result).toEqual({ status: "Accepted" });
      await statusBecomes(csms, "Reserved");
      await statusBecomes(csms, "Available", 1, 10_000);
      expect((await csms.call("CancelReservation", { reservationId: 6 })).result).toEqual({ status: "Rejected" });

      // used
      await notFaulted(csms);
      expect((await csms.call("ReserveNow", { connectorId: 1, expiryDate: inSeconds(120), idTag: "OWNER", reservationId: 7 })).result).toEqual({ status: "Accepted" });
      await statusBecomes(csms, "Reserved");
      expect((await srv.post("/api/v1/tokens", RFID("STRANGER"))).body.result).toBe("NoConnectorAvailable");
      await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
      await Bun.sleep(1500);
      expect(await lastStatus(csms)).toBe("Reserved"); // plugged, owner not yet authorized
      expect((await csms.call("ReserveNow", { connectorId: 1, expiryDate: inSeconds(60), idTag: "OTHER", reservationId: 8 })).result).toEqual({ status: "Occupied" });
      expect((await srv.post("/api/v1/tokens", RFID("OWNER"))).body.result).toBe("Authorized");
      const start = await csms.waitCall("StartTransaction");
      expect(start).toMatchObject({ idTag: "OWNER", reservationId: 7 });
      await statusBecomes(csms, "Charging");
      const seq = (await csms.calls("StatusNotification")).filter((p) => p.connectorId === 1).map((p) => p.status);
      expect(seq.slice(-3)).toEqual(["Reserved", "Preparing", "Charging"]);
    }));

  test("TriggerMessage, DataTransfer, ClearCache, SendLocalList/GetLocalListVersion (Full, Differential, VersionMismatch) and a Blocked local-list entry", () =>
    slot(async () => {
      const { csms, srv } = await pair({ LocalPreAuthorize: true });
      expect((await csms.call("TriggerMessage", { requestedMessage: "StatusNotification", connectorId: 5 })).result).toEqual({ status: "Rejected" });
      const before = (await csms.calls("StatusNotification")).length;
      expect((await csms.call("TriggerMessage", { requestedMessage: "StatusNotification", connectorId: 1 })).result).toEqual({ status: "Accepted" });
      for (let i = 0; i < 100 && (await csms.calls("StatusNotification")).length === before; i++) await Bun.sleep(50);
      expect((await csms.calls("StatusNotification")).length).toBe(before + 1);
      expect((await csms.call("TriggerMessage", { requestedMessage: "Heartbeat" })).result).toEqual({ status: "Accepted" });
      await csms.waitCall("Heartbeat");
      expect((await csms.call("TriggerMessage", { requestedMessage: "BootNotification" })).result).toEqual({ status: "Accepted" });
      for (let i = 0; i < 100 && (await csms.calls("BootNotification")).length < 2; i++) await Bun.sleep(50);
      expect((await csms.call("TriggerMessage", { requestedMessage: "FirmwareStatusNotification" })).result).toEqual({ status: "Accepted" });
      expect(await csms.waitCall("FirmwareStatusNotification")).toEqual({ status: "Idle" });
      expect((await csms.call("TriggerMessage", { requestedMessage: "DiagnosticsStatusNotification" })).result).toEqual({ status: "Accepted" });
      expect(await csms.waitCall("DiagnosticsStatusNotification")).toEqual({ status: "Idle" });
      expect((await csms.call("DataTransfer", { vendorId: "com.example", messageId: "x", data: "y" })).result).toEqual({ status: "UnknownVendorId" });
      expect((await csms.call("ClearCache", {})).result).toEqual({ status: "Accepted" });

      expect((await csms.call("GetLocalListVersion", {})).result).toEqual({ listVersion: 0 });
      expect(
        (await csms.call("SendLocalList", { listVersion: 3, updateType: "Full", localAuthorizationList: [{ idTag: "LOST1", idTagInfo: { status: "Blocked" } }, { idTag: "GOOD1", idTagInfo: { status: "Accepted" } }] })).result,
      ).toEqual({ status: "Accepted" });
      expect((await csms.call("GetLocalListVersion", {})).result).toEqual({ listVersion: 3 });
      expect((await csms.call("SendLocalList", { listVersion: 2, updateType: "Differential", localAuthorizationList: [{ idTag: "GOOD1" }] })).result).toEqual({ status: "VersionMismatch" });
      expect((await csms.call("SendLocalList", { listVersion: 4, updateType: "Differential", localAuthorizationList: [{ idTag: "GOOD2", idTagInfo: { status: "Accepted" } }] })).result).toEqual({ status: "Accepted" });
      expect((await srv.post("/api/v1/tokens", RFID("LOST1"))).body).toEqual({ result: "Rejected", authorization_status: "Blocked", evse: null });
      expect((await srv.post("/api/v1/tokens", RFID("GOOD2"))).body.result).toBe("Authorized");
      expect(await csms.calls("Authorize")).toEqual([]); // the local list answered both (LocalPreAuthorize)
      expect((await csms.log()).filter((e) => e.type === "strict_failure")).toEqual([]);
    }));

  test("smart charging: TxDefaultProfile lowers the offered current at once, GetCompositeSchedule reports it, ClearChargingProfile lifts it; a TxProfile without transaction is Rejected", () =>
    slot(async () => {
      const { csms, srv } = await pair();
      await charging(csms, srv);
      const profile = (id: number, purpose: string, limit: number) => ({
        chargingProfileId: id,
        stackLevel: 1,
        chargingProfilePurpose: purpose,
        chargingProfileKind: "Absolute",
        chargingSchedule: { startSchedule: new Date(Date.now() - 1000).toISOString(), chargingRateUnit: "A", chargingSchedulePeriod: [{ startPeriod: 0, limit }] },
      });
      expect((await csms.call("SetChargingProfile", { connectorId: 1, csChargingProfiles: profile(1, "TxDefaultProfile", 10) })).result).toEqual({ status: "Accepted" });
      const deadline = Date.now() + 15_000;
      let duty = 0;
      while (Date.now() < deadline) {
        duty = (await srv.get("/api/v1/evses/1/sim")).body.pwm_duty_percent;
        if (Math.abs(duty - 10 / 0.6) < 0.5) break;
        await Bun.sleep(200);
      }
      expect(duty).toBeCloseTo(10 / 0.6, 0);
      const composite = (await csms.call("GetCompositeSchedule", { connectorId: 1, duration: 3600 })).result;
      expect(composite).toMatchObject({ status: "Accepted", connectorId: 1, chargingSchedule: { chargingRateUnit: "A", chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] } });
      expect((await csms.call("GetCompositeSchedule", { connectorId: 4, duration: 60 })).result).toEqual({ status: "Rejected" });
      expect((await csms.call("SetChargingProfile", { connectorId: 0, csChargingProfiles: profile(2, "TxProfile", 6) })).result).toEqual({ status: "Rejected" });
      expect((await csms.call("ClearChargingProfile", { id: 999 })).result).toEqual({ status: "Unknown" });
      expect((await csms.call("ClearChargingProfile", { id: 1 })).result).toEqual({ status: "Accepted" });
      const until = Date.now() + 15_000;
      while (Date.now() < until && (await srv.get("/api/v1/evses/1/sim")).body.pwm_duty_percent < 20) await Bun.sleep(200);
      expect((await srv.get("/api/v1/evses/1/sim")).body.pwm_duty_percent).toBeGreaterThan(20);
    }));

  test("GetDiagnostics uploads an archive without secrets (PUT), UploadFailed when nobody listens; UpdateFirmware: 404 → DownloadFailed; updates not configured (no update.public_key) → InstallationFailed, never Installed", () =>
    slot(async () => {
      const uploads: { method: string; body: Uint8Array }[] = [];
      const files = new Map<string, Uint8Array>([
        ["/fw.bin", new TextEncoder().encode("not really a binary")],
        ["/fw.bin.sig", new TextEncoder().encode(Buffer.alloc(64, 7).toString("base64"))],
      ]);
      const http = Bun.serve({
        port: 0,
        hostname: "127.0.0.1",
        async fetch(req) {
          const path = new URL(req.url).pathname;
          if (req.method === "PUT" || req.method === "POST") {
            uploads.push({ method: req.method, body: new Uint8Array(await req.arrayBuffer()) });
            return new Response("ok");
          }
          const file = files.get(path);
          return file ? new Response(file) : new Response("no", { status: 404 });
        },
      });
      cleanup.push(() => http.stop(true));
      const base = `http://127.0.0.1:${http.port}`;
      // Security profile 1 (basic auth): the CSMS only lets the charge point in with the right key.
      const csms = await startCsms(["--password", "diag-secret-key-0123"]);
      cleanup.push(() => csms.stop());
      const config = { ocpp: { central_system_url: csms.url, charge_point_id: "CP001", security_profile: 1, authorization_key: "diag-secret-key-0123", configuration: { MeterValueSampleInterval: 0 } } };
      const srv = await startServer({ config, waitReady: true, timeoutMs: 60_000, exe: "binary" });
      cleanup.push(() => srv.stop());
      await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Available", 30_000);
      expect(srv.output.join("\n")).not.toContain("diag-secret-key-0123");

      const diag = (await csms.call("GetDiagnostics", { location: `${base}/upload/` })).result;
      expect(diag.fileName).toMatch(/^diagnostics-CP001-.*\.json\.gz$/);
      await csms.waitCall("DiagnosticsStatusNotification", (p) => p.status === "Uploaded");
      expect(uploads[0]!.method).toBe("PUT");
      const archive = JSON.parse(gunzipSync(uploads[0]!.body).toString("utf8"));
      expect(archive.versions.evse_manager).toBe("0.1.0");
      expect(Array.isArray(archive.log)).toBe(true);
      expect(JSON.stringify(archive)).not.toContain("diag-secret-key-0123");
      expect(archive.configuration.ocpp.central_system_url).toBe(csms.url);
      expect((await csms.call("GetDiagnostics", { location: "http://127.0.0.1:1/nowhere", retries: 0 })).result.fileName).toBeDefined();
      await csms.waitCall("DiagnosticsStatusNotification", (p) => p.status === "UploadFailed");

      const retrieveDate = new Date().toISOString();
      expect((await csms.call("UpdateFirmware", { location: `${base}/missing.bin`, retrieveDate, retries: 0 })).result).toEqual({});
      await csms.waitCall("FirmwareStatusNotification", (p) => p.status === "DownloadFailed");
      expect((await csms.call("UpdateFirmware", { location: `${base}/fw.bin`, retrieveDate, retries: 0 })).result).toEqual({});
      await csms.waitCall("FirmwareStatusNotification", (p) => p.status === "InstallationFailed");
      const fw = (await csms.calls("FirmwareStatusNotification")).map((p) => p.status);
      expect(fw).toEqual(["Downloading", "DownloadFailed", "Downloading", "Downloaded", "Installing", "InstallationFailed"]);
      expect(fw).not.toContain("Installed");
      expect(srv.output.join("\n")).toContain("firmware not installed: update_not_configured");
    }));

  test("Reset Soft: Accepted, the running transaction ends with SoftReset, the program restarts and boots again", () =>
    slot(async () => {
      const { csms, srv } = await pair();
      await charging(csms, srv);
      expect((await csms.call("Reset", { type: "Soft" })).result).toEqual({ status: "Accepted" });
      expect((await csms.waitCall("StopTransaction")).reason).toBe("SoftReset");
      await csms.waitFor((e) => e.type === "disconnected", 30_000);
      for (let i = 0; i < 600 && (await csms.calls("BootNotification")).length < 2; i++) await Bun.sleep(100);
      expect((await csms.calls("BootNotification")).length).toBe(2);
      const line = srv.output.find((l) => /restarted as pid \d+/.test(l));
      const pid = Number(/restarted as pid (\d+)/.exec(line ?? "")?.[1]);
      expect(pid).toBeGreaterThan(0);
      cleanup.push(() => {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      });
    }));
});
