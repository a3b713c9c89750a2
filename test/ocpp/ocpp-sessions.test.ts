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
  const srv = await startServer({ config: ocppConfig(csms, keys, extra), waitReady: true, timeoutMs: 60_000 });
  started.push(srv);
  await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Available", 30_000);
  return { csms, srv };
}

/** No message the charge point sent failed the CSMS's schema validation. */
async function noSchemaFailures(csms: Csms): Promise<void> {
  expect((await csms.log()).filter((e) => e.type === "strict_failure")).toEqual([]);
}

const statuses = async (csms: Csms, connectorId = 1) => (await csms.calls("StatusNotification")).filter((p) => p.connectorId === connectorId).map((p) => p.status);

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
});
