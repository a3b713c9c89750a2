// Whole charging sessions against a real CSMS (ocpp-rpc RPCServer, strict OCPP 1.6 schema
// validation of every message, under Node): the product is driven through its HTTP API and the
// simulated car, and the CSMS's record of what it received is checked (ocpp.md §2–§4).
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startServer, type TestServer } from "../helpers/server.ts";
import { ocppConfig, RFID, slots, startCsms, type Csms } from "./csms.ts";

const PLUG_CHARGE = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000";
setDefaultTimeout(180_000);
const slot = slots(2);
const started: (Csms | TestServer)[] = [];
afterAll(async () => {
  await Promise.allSettled(started.map((x) => x.stop()));
});

async function pair(keys: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const csms = await startCsms();
  started.push(csms);
  const srv = await startServer({ config: ocppConfig(csms, keys, extra), waitReady: true, timeoutMs: 60_000, exe: "binary" });
  started.push(srv);
  await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Available", 30_000);
  return { csms, srv };
}

/** No message the charge point sent failed the CSMS's schema validation. */
async function noSchemaFailures(csms: Csms): Promise<void> {
  expect((await csms.log()).filter((e) => e.type === "strict_failure")).toEqual([]);
}

/** The connector's statuses in order; a Faulted caused by a starved machine (the real-time worker
 * missing its heartbeat) and the repeat of the status before it are left out. */
const statuses = async (csms: Csms, connectorId = 1) =>
  (await csms.calls("StatusNotification"))
    .filter((p) => p.connectorId === connectorId && p.status !== "Faulted")
    .map((p) => p.status as string)
    .filter((s, i, all) => i === 0 || all[i - 1] !== s);

describe.concurrent("OCPP sessions against a real CSMS", () => {
  test("boot: BootNotification first, then StatusNotification Available for connector 0 and 1; GET /api/v1/ocpp shows it", () => slot(async () => {
    const { csms, srv } = await pair();
    const calls = (await csms.log()).filter((e) => e.type === "call");
    expect(calls[0]!.action).toBe("BootNotification");
    expect(calls[0]!.params).toMatchObject({ chargePointVendor: "evse-manager", chargePointModel: "evse-manager" });
    const first = calls.filter((c) => c.action === "StatusNotification").slice(0, 2).map((c) => c.params);
    expect(first).toEqual([
      expect.objectContaining({ connectorId: 0, status: "Available", errorCode: "NoError" }),
      expect.objectContaining({ connectorId: 1, status: "Available", errorCode: "NoError" }),
    ]);
    expect((await srv.get("/api/v1/ocpp")).body).toEqual({ configured: true, connected: true, registration: "Accepted", queued_transaction_messages: 0, last_error: null });
    const metrics = await (await srv.fetch("/metrics")).text();
    expect(metrics).toContain('evse_ocpp_messages_total{direction="out",action="BootNotification",kind="CALL"} 1');
    expect(metrics).toContain("evse_ocpp_connected 1");
    expect(srv.output.some((l) => /ocpp -> CALL BootNotification id=/.test(l))).toBe(true);
    await noSchemaFailures(csms);
  }));

  test("MinimumStatusDuration 4: a status that does not last 4 s (Finishing on unplug) is never sent, the one after it is", () => slot(async () => {
    const { csms, srv } = await pair({ MinimumStatusDuration: 4 });
    await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
    await srv.post("/api/v1/tokens", RFID("RFID0001"));
    await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Charging", 30_000);
    const unplugged = Date.now();
    await srv.post("/api/v1/evses/1/sim/car", { script: "unplug", replace: true });
    await csms.waitCall("StopTransaction");
    const available = await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Available" && Date.parse(p.timestamp) >= unplugged - 1000, 30_000);
    expect(Date.now() - unplugged).toBeGreaterThanOrEqual(3500);
    expect(Date.parse(available.timestamp)).toBeLessThan(Date.now() - 3000); // stamped when it began
    expect(await statuses(csms)).not.toContain("Finishing");
    await noSchemaFailures(csms);
  }));

  test("plug-first RFID session: Preparing, Authorize, StartTransaction, Charging, stop by the same token, StopTransaction with both signed values", () => slot(async () => {
    const { csms, srv } = await pair();
    await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
    await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Preparing");
    const auth = await srv.post("/api/v1/tokens", RFID("RFID0001"));
    expect(auth.body).toEqual({ result: "Authorized", authorization_status: "Accepted", evse: 1 });
    expect(await csms.calls("Authorize")).toEqual([{ idTag: "RFID0001" }]);
    const start = await csms.waitCall("StartTransaction");
    expect(start).toMatchObject({ connectorId: 1, idTag: "RFID0001" });
    expect(typeof start.meterStart).toBe("number");
    await csms.waitCall("StatusNotification", (p) => p.status === "Charging");
    const stop = await srv.post("/api/v1/tokens", RFID("RFID0001"));
    expect(stop.body).toEqual({ result: "Stopped", authorization_status: null, evse: 1 });
    const st = await csms.waitCall("StopTransaction");
    expect(st).toMatchObject({ transactionId: 1000, reason: "Local", idTag: "RFID0001" });
    expect(st.meterStop).toBeGreaterThanOrEqual(start.meterStart);
    const signed = st.transactionData.flatMap((m: any) => m.sampledValue).filter((s: any) => s.format === "SignedData");
    expect(signed.map((s: any) => s.context)).toEqual(["Transaction.Begin", "Transaction.End"]);
    expect(signed.every((s: any) => s.value.startsWith("OCMF|"))).toBe(true);
    await srv.post("/api/v1/evses/1/sim/car", { script: "unplug", replace: true });
    for (let i = 0; i < 100 && (await statuses(csms)).length < 5; i++) await Bun.sleep(100);
    expect(await statuses(csms)).toEqual(["Available", "Preparing", "Charging", "Finishing", "Available"]);
    await noSchemaFailures(csms);
  }));

  test("authorize-first RFID session: token, then plug-in starts the transaction; unplug ends it with EVDisconnected", () => slot(async () => {
    const { csms, srv } = await pair();
    const auth = await srv.post("/api/v1/tokens", RFID("RFID0002"));
    expect(auth.body).toEqual({ result: "Authorized", authorization_status: "Accepted", evse: 1 });
    await csms.waitCall("StatusNotification", (p) => p.status === "Preparing");
    await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
    await csms.waitCall("StartTransaction", (p) => p.idTag === "RFID0002");
    await csms.waitCall("StatusNotification", (p) => p.status === "Charging");
    await srv.post("/api/v1/evses/1/sim/car", { script: "unplug", replace: true });
    const st = await csms.waitCall("StopTransaction");
    expect(st.reason).toBe("EVDisconnected");
    await noSchemaFailures(csms);
  }));

  test("Authorize.conf Invalid: the token is Rejected and nothing starts", () => slot(async () => {
    const { csms, srv } = await pair();
    await csms.answers({ Authorize: { idTagInfo: { status: "Invalid" } } });
    await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
    await csms.waitCall("StatusNotification", (p) => p.status === "Preparing");
    const auth = await srv.post("/api/v1/tokens", RFID("BADCARD"));
    expect(auth.body).toEqual({ result: "Rejected", authorization_status: "Invalid", evse: null });
    await Bun.sleep(500);
    expect(await csms.calls("StartTransaction")).toEqual([]);
  }));

  test("remote start (cable first) and remote stop: RemoteStartTransaction Accepted, transaction runs, RemoteStopTransaction stops it with Remote", () => slot(async () => {
    const { csms, srv } = await pair();
    await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
    await csms.waitCall("StatusNotification", (p) => p.status === "Preparing");
    expect((await csms.call("RemoteStartTransaction", { connectorId: 1, idTag: "REMOTE1" })).result).toEqual({ status: "Accepted" });
    const start = await csms.waitCall("StartTransaction");
    expect(start.idTag).toBe("REMOTE1");
    expect(await csms.calls("Authorize")).toEqual([]); // AuthorizeRemoteTxRequests false: prevalidated
    await csms.waitCall("StatusNotification", (p) => p.status === "Charging");
    expect((await csms.call("RemoteStopTransaction", { transactionId: 999 })).result).toEqual({ status: "Rejected" });
    expect((await csms.call("RemoteStopTransaction", { transactionId: 1000 })).result).toEqual({ status: "Accepted" });
    expect((await csms.waitCall("StopTransaction")).reason).toBe("Remote");
    await noSchemaFailures(csms);
  }));

  test("remote start (remote first) with AuthorizeRemoteTxRequests: Authorize.req first, then plug-in starts; connector 0 and busy connectors are Rejected", () => slot(async () => {
    const { csms, srv } = await pair({ AuthorizeRemoteTxRequests: true });
    expect((await csms.call("RemoteStartTransaction", { connectorId: 0, idTag: "REMOTE2" })).result).toEqual({ status: "Rejected" });
    expect((await csms.call("RemoteStartTransaction", { connectorId: 2, idTag: "REMOTE2" })).result).toEqual({ status: "Rejected" });
    expect((await csms.call("RemoteStartTransaction", { idTag: "REMOTE2" })).result).toEqual({ status: "Accepted" });
    await csms.waitCall("Authorize", (p) => p.idTag === "REMOTE2");
    await csms.waitCall("StatusNotification", (p) => p.status === "Preparing");
    await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
    await csms.waitCall("StartTransaction", (p) => p.idTag === "REMOTE2");
    expect((await csms.call("RemoteStartTransaction", { connectorId: 1, idTag: "OTHER" })).result).toEqual({ status: "Rejected" });
  }));

  for (const stopOnInvalid of [true, false]) {
    test(`StartTransaction.conf Invalid with StopTransactionOnInvalidId ${stopOnInvalid}: charging is paused${stopOnInvalid ? " and the transaction stopped with DeAuthorized" : ", the transaction stays"}`, () => slot(async () => {
      const { csms, srv } = await pair({ StopTransactionOnInvalidId: stopOnInvalid });
      await csms.answers({ StartTransaction: { transactionId: "$TXID", idTagInfo: { status: "Invalid" } } });
      await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
      await csms.waitCall("StatusNotification", (p) => p.status === "Preparing");
      await srv.post("/api/v1/tokens", RFID("RFID0003"));
      await csms.waitCall("StartTransaction");
      if (stopOnInvalid) {
        const st = await csms.waitCall("StopTransaction");
        expect(st.reason).toBe("DeAuthorized");
      } else {
        await csms.waitCall("StatusNotification", (p) => p.status === "SuspendedEVSE");
        await Bun.sleep(500);
        expect(await csms.calls("StopTransaction")).toEqual([]);
        const sim = (await srv.get("/api/v1/evses/1/sim")).body;
        expect(sim.relays_closed).toBe(false);
      }
      await noSchemaFailures(csms);
    }));
  }

  test("Faulted while evse_manager/Inoperative is active, with errorCode and vendorErrorCode; the stored status comes back with NoError", () => slot(async () => {
    const { csms, srv } = await pair();
    await srv.post("/api/v1/evses/1/commands/set_faulted", {});
    const faulted = await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Faulted");
    expect(faulted).toMatchObject({ errorCode: "OtherError", vendorErrorCode: "evse_manager/Inoperative" });
    expect(faulted.info.length).toBeLessThanOrEqual(50);
    expect((await srv.post("/api/v1/tokens", RFID("RFID0001"))).body.result).toBe("NoConnectorAvailable");
    await srv.post("/api/v1/evses/1/commands/enable_disable", { connector_id: 0, cmd_source: { enable_source: "LocalAPI", enable_state: "Enable", enable_priority: 0 } });
    const back = await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Available" && (p.timestamp ?? "") > faulted.timestamp);
    expect(back.errorCode).toBe("NoError");
    await noSchemaFailures(csms);
  }));

  test("BootNotification Rejected, then Pending: retried after interval, RemoteStart Rejected and no StatusNotification until Accepted", () => slot(async () => {
    const csms = await startCsms();
    started.push(csms);
    await csms.answers({ BootNotification: { status: "Rejected", currentTime: new Date().toISOString(), interval: 2 } });
    const srv = await startServer({ config: ocppConfig(csms), waitReady: true, timeoutMs: 60_000, exe: "binary" });
    started.push(srv);
    await csms.waitCall("BootNotification");
    for (let i = 0; i < 100 && (await srv.get("/api/v1/ocpp")).body.registration !== "Rejected"; i++) await Bun.sleep(100);
    expect((await srv.get("/api/v1/ocpp")).body).toMatchObject({ connected: true, registration: "Rejected" });
    await csms.answers({ BootNotification: { status: "Pending", currentTime: new Date().toISOString(), interval: 2 } });
    for (let i = 0; i < 100 && (await srv.get("/api/v1/ocpp")).body.registration !== "Pending"; i++) await Bun.sleep(100);
    expect((await srv.get("/api/v1/ocpp")).body.registration).toBe("Pending");
    expect((await csms.call("RemoteStartTransaction", { connectorId: 1, idTag: "EARLY" })).result).toEqual({ status: "Rejected" });
    expect((await csms.call("GetConfiguration", { key: ["NumberOfConnectors"] })).result.configurationKey[0].value).toBe("1");
    await Bun.sleep(2500);
    expect((await csms.calls("BootNotification")).length).toBeGreaterThanOrEqual(2);
    expect(await csms.calls("StatusNotification")).toEqual([]);
    await csms.answers({ BootNotification: null });
    await csms.waitCall("StatusNotification", (p) => p.connectorId === 1, 10_000);
    expect((await srv.get("/api/v1/ocpp")).body.registration).toBe("Accepted");
  }));

  test("meter values: periodic MeterValues in the transaction, clock-aligned ones, and the StopTxnSampledData samples in transactionData", () => slot(async () => {
    const { csms, srv } = await pair({
      MeterValueSampleInterval: 1,
      MeterValuesSampledData: "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,Current.Offered",
      ClockAlignedDataInterval: 2,
      StopTxnSampledData: "Energy.Active.Import.Register",
    });
    await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
    await csms.waitCall("StatusNotification", (p) => p.status === "Preparing");
    await srv.post("/api/v1/tokens", RFID("RFID0001"));
    await csms.waitCall("StatusNotification", (p) => p.status === "Charging");
    const periodic = await csms.waitCall("MeterValues", (p) => p.transactionId === 1000 && p.meterValue[0].sampledValue.some((s: any) => s.context === "Sample.Periodic" && s.measurand === "Power.Active.Import"));
    const values = periodic.meterValue[0].sampledValue;
    expect(values.find((s: any) => s.measurand === "Energy.Active.Import.Register" && !s.phase)).toMatchObject({ unit: "Wh", location: "Outlet" });
    expect(values.filter((s: any) => s.measurand === "Voltage").map((s: any) => s.phase)).toEqual(["L1", "L2", "L3"]);
    expect(values.find((s: any) => s.measurand === "Current.Offered")).toMatchObject({ unit: "A" });
    await csms.waitCall("MeterValues", (p) => p.meterValue[0].sampledValue.some((s: any) => s.context === "Sample.Clock"));
    await Bun.sleep(2000);
    await srv.post("/api/v1/tokens", RFID("RFID0001"));
    const st = await csms.waitCall("StopTransaction");
    const contexts = st.transactionData.flatMap((m: any) => m.sampledValue.filter((s: any) => s.format !== "SignedData").map((s: any) => s.context));
    expect(contexts[0]).toBe("Transaction.Begin");
    expect(contexts).toContain("Sample.Periodic");
    expect(contexts.at(-1)).toBe("Transaction.End");
    await noSchemaFailures(csms);
  }));

  test("remote start with a TxProfile: charging starts at the profile's limit [D-O 6]; a TxDefaultProfile there is Rejected", () => slot(async () => {
    const { csms, srv } = await pair();
    const profile = (purpose: string) => ({
      chargingProfileId: 9,
      stackLevel: 0,
      chargingProfilePurpose: purpose,
      chargingProfileKind: "Relative",
      chargingSchedule: { chargingRateUnit: "A", chargingSchedulePeriod: [{ startPeriod: 0, limit: 8 }] },
    });
    expect((await csms.call("RemoteStartTransaction", { connectorId: 1, idTag: "REMOTE3", chargingProfile: profile("TxDefaultProfile") })).result).toEqual({ status: "Rejected" });
    expect((await csms.call("RemoteStartTransaction", { connectorId: 1, idTag: "REMOTE3", chargingProfile: profile("TxProfile") })).result).toEqual({ status: "Accepted" });
    await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
    await csms.waitCall("StartTransaction", (p) => p.idTag === "REMOTE3");
    // The first duty the car is offered already carries the limit (8 A = 13.33 %), no 32 A first.
    const duties: number[] = [];
    for (let i = 0; i < 100; i++) {
      const sim = (await srv.get("/api/v1/evses/1/sim")).body;
      if (typeof sim.pwm_duty_percent === "number") duties.push(sim.pwm_duty_percent);
      if (sim.relays_closed) break;
      await Bun.sleep(50);
    }
    expect(duties.length).toBeGreaterThan(0);
    for (const d of duties) expect(d).toBeCloseTo(8 / 0.6, 0);
    const composite = (await csms.call("GetCompositeSchedule", { connectorId: 1, duration: 600 })).result;
    expect(composite.chargingSchedule.chargingSchedulePeriod[0].limit).toBe(8);
    await noSchemaFailures(csms);
  }));
});
