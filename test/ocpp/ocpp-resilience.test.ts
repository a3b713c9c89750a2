// Nothing lost, nothing duplicated (ocpp.md §4, §8): a CSMS outage during a session, an offline
// session start, and kill -9 during a transaction, against a real CSMS (ocpp-rpc, strict schemas).
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type TestServer } from "../helpers/server.ts";
import { ocppConfig, RFID, slots, startCsms, type Csms } from "./csms.ts";

setDefaultTimeout(240_000);
const slot = slots(2);
const PLUG_CHARGE = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000";
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await Promise.allSettled(cleanup.map((f) => f()));
});

async function csmsUp(): Promise<Csms> {
  const csms = await startCsms();
  cleanup.push(() => csms.stop());
  return csms;
}

async function server(config: Record<string, unknown>): Promise<TestServer> {
  const srv = await startServer({ config, waitReady: true, timeoutMs: 60_000, exe: "binary" });
  cleanup.push(() => srv.stop());
  return srv;
}

async function waitUntil(what: string, ok: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await Bun.sleep(100);
  }
}

describe.concurrent("OCPP resilience", () => {
  test("CSMS outage during a session: charging goes on, the stop is queued and delivered exactly once after the reconnect", () =>
    slot(async () => {
      const csms = await csmsUp();
      const srv = await server(ocppConfig(csms, { MeterValueSampleInterval: 1 }));
      await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Available", 30_000);
      await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
      await csms.waitCall("StatusNotification", (p) => p.status === "Preparing");
      expect((await srv.post("/api/v1/tokens", RFID("RFID0001"))).body.result).toBe("Authorized");
      const start = await csms.waitCall("StartTransaction");
      await csms.waitCall("StatusNotification", (p) => p.status === "Charging");
      await csms.waitCall("MeterValues", (p) => p.transactionId === 1000);

      await csms.outage(6000);
      await waitUntil("the charge point notices the outage", async () => (await srv.get("/api/v1/ocpp")).body.connected === false);
      await Bun.sleep(1500);
      expect((await srv.get("/api/v1/evses/1/sim")).body.relays_closed).toBe(true); // charging never depends on the connection
      expect((await srv.post("/api/v1/tokens", RFID("RFID0001"))).body).toEqual({ result: "Stopped", authorization_status: null, evse: 1 });
      const queued = (await srv.get("/api/v1/ocpp")).body;
      expect(queued.connected).toBe(false);
      expect(queued.queued_transaction_messages).toBeGreaterThanOrEqual(1);

      const stop = await csms.waitCall("StopTransaction", () => true, 60_000);
      expect(stop).toMatchObject({ transactionId: 1000, reason: "Local", idTag: "RFID0001" });
      expect(stop.meterStop).toBeGreaterThanOrEqual(start.meterStart);
      await waitUntil("the queue drains", async () => (await srv.get("/api/v1/ocpp")).body.queued_transaction_messages === 0);
      await Bun.sleep(1000);
      expect(await csms.calls("StopTransaction")).toHaveLength(1);
      // Periodic MeterValues taken while offline were kept and sent in order, all before the stop.
      const txFrames = (await csms.log()).filter((e) => e.type === "call" && (e.action === "MeterValues" || e.action === "StopTransaction")).map((e) => e.action);
      expect(txFrames[txFrames.length - 1]).toBe("StopTransaction");
      // After the reconnect the statuses are sent again (no second BootNotification in this process).
      expect(await csms.calls("BootNotification")).toHaveLength(1);
      expect((await csms.log()).filter((e) => e.type === "connected")).toHaveLength(2);
      expect((await csms.log()).filter((e) => e.type === "strict_failure")).toEqual([]);
    }));

  test("offline: a cached token starts a session, an unknown one is Invalid (AllowOfflineTxForUnknownId false); the transaction reaches the CSMS after the reconnect", () =>
    slot(async () => {
      const csms = await csmsUp();
      const srv = await server(ocppConfig(csms));
      await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Available", 30_000);
      // RFID0009 gets into the authorization cache through an Authorize round trip.
      expect((await srv.post("/api/v1/tokens", RFID("RFID0009"))).body.result).toBe("Authorized");
      await srv.post("/api/v1/evses/1/commands/withdraw_authorization", {});
      await csms.waitCall("StatusNotification", (p) => p.status === "Available" && p.connectorId === 1);

      await csms.outage(8000);
      await waitUntil("the charge point notices the outage", async () => (await srv.get("/api/v1/ocpp")).body.connected === false);
      expect((await srv.post("/api/v1/tokens", RFID("UNKNOWN1"))).body).toEqual({ result: "Rejected", authorization_status: "Invalid", evse: null });
      expect((await srv.post("/api/v1/tokens", RFID("RFID0009"))).body.result).toBe("Authorized");
      await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
      const start = await csms.waitCall("StartTransaction", () => true, 60_000);
      expect(start.idTag).toBe("RFID0009");
      expect((await csms.calls("Authorize")).map((p) => p.idTag)).toEqual(["RFID0009"]);
    }));

  test("kill -9 during a transaction: after the restart exactly one StopTransaction{PowerLoss} for that transaction, with the recorded meter value", () =>
    slot(async () => {
      const csms = await csmsUp();
      const dir = mkdtempSync(join(tmpdir(), "ocpp-kill-"));
      cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
      const config = ocppConfig(csms, {}, { storage: { path: join(dir, "state.sqlite") } });
      const first = await server(config);
      await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Available", 30_000);
      await first.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
      await csms.waitCall("StatusNotification", (p) => p.status === "Preparing");
      await first.post("/api/v1/tokens", RFID("RFID0001"));
      const start = await csms.waitCall("StartTransaction");
      await csms.waitCall("StatusNotification", (p) => p.status === "Charging");
      await Bun.sleep(2000);
      first.proc.kill("SIGKILL");
      await first.proc.exited;

      const second = await server(config);
      const stop = await csms.waitCall("StopTransaction", () => true, 60_000);
      expect(stop).toMatchObject({ transactionId: 1000, reason: "PowerLoss" });
      expect(stop.meterStop).toBeGreaterThanOrEqual(start.meterStart);
      // Sent after the BootNotification of the new process was accepted.
      const calls = (await csms.log()).filter((e) => e.type === "call").map((e) => e.action);
      expect(calls.lastIndexOf("BootNotification")).toBeLessThan(calls.indexOf("StopTransaction"));
      await second.stop();

      const third = await server(config);
      await csms.waitFor((e) => e.type === "call" && e.action === "BootNotification" && (e.seq ?? 0) > 0, 30_000);
      await Bun.sleep(3000);
      expect(await csms.calls("StopTransaction")).toHaveLength(1);
      expect((await third.get("/api/v1/ocpp")).body.queued_transaction_messages).toBe(0);
      expect((await csms.log()).filter((e) => e.type === "strict_failure")).toEqual([]);
    }));
});
