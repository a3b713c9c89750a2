// Fast unit tests of the OCPP adapter's pure parts, with an injected clock and an in-memory store:
// the status table (ocpp.md §3), error codes, meter values (§6), configuration keys (§7), the local
// list and cache rules (§2.1), the transaction queue (§8) and the token front end (§2.2, §2.3).
import { describe, expect, test } from "bun:test";
import { AuthCache } from "../auth/auth-cache.ts";
import { EvseView } from "../auth/evse-view.ts";
import { TokenFrontEnd } from "../auth/token-front-end.ts";
import { LocalList } from "../auth/local-list.ts";
import { TokenValidator, type OcppAuthority } from "../auth/validator.ts";
import type { SessionEvent } from "../core/types/index.ts";
import { OcppConfiguration } from "../ocpp/configuration.ts";
import { ConnectorStatus } from "../ocpp/connector-status.ts";
import { ocppErrorCode } from "../ocpp/error-codes.ts";
import { sampledValues } from "../ocpp/meter-values.ts";
import { StatusStability } from "../ocpp/status-stability.ts";
import { TransactionQueue } from "../ocpp/transaction-queue.ts";
import { openStore } from "../store/index.ts";
import { until } from "./helpers/until.ts";

const ev = (event: string, extra: Partial<SessionEvent> = {}): SessionEvent => ({ uuid: "u", event, timestamp: "2026-01-01T00:00:00.000Z", ...extra }) as SessionEvent;
const meter = { timestamp: "2026-01-01T00:00:00.000Z", energy_Wh_import: { total: 0 } };
const plugged = ev("SessionStarted", { session_started: { reason: "EVConnected", meter_value: meter } });
const authorizedFirst = ev("SessionStarted", { session_started: { reason: "Authorized", meter_value: meter } });

function walk(events: SessionEvent[]): string[] {
  const s = new ConnectorStatus();
  return events.map((e) => (s.observe(e), s.stored));
}

describe("connector status (ocpp.md §3)", () => {
  test("the reference table, session by session", () => {
    expect(walk([plugged, ev("ChargingStarted"), ev("ChargingPausedEV"), ev("ChargingResumed"), ev("ChargingPausedEVSE"), ev("WaitingForEnergy"), ev("SwitchingPhases"), ev("TransactionFinished"), ev("SessionFinished")])).toEqual([
      "Preparing",
      "Charging",
      "SuspendedEV",
      "Charging",
      "SuspendedEVSE",
      "SuspendedEVSE",
      "SuspendedEVSE",
      "Finishing",
      "Available",
    ]);
    expect(walk([plugged, ev("PluginTimeout"), ev("SessionFinished")])).toEqual(["Preparing", "Finishing", "Available"]);
  });
  test("Disabled is Unavailable also while Preparing [D-O 3]; SessionFinished while disabled stays Unavailable", () => {
    expect(walk([plugged, ev("Disabled"), ev("SessionFinished"), ev("Enabled")])).toEqual(["Preparing", "Unavailable", "Unavailable", "Available"]);
  });
  test("reservations: plug-in keeps Reserved until the owner authorizes, then Preparing directly [D-O 4]; expiry → Available", () => {
    expect(walk([ev("ReservationStart"), plugged, ev("ReservationEnd"), ev("ChargingStarted")])).toEqual(["Reserved", "Reserved", "Preparing", "Charging"]);
    expect(walk([ev("ReservationStart"), ev("ReservationEnd")])).toEqual(["Reserved", "Available"]);
    expect(walk([ev("ReservationStart"), ev("ReservationEnd"), authorizedFirst])).toEqual(["Reserved", "Available", "Preparing"]);
  });
});

describe("error codes (ocpp.md §3)", () => {
  test("board and device errors map to OCPP ChargePointErrorCode", () => {
    expect(ocppErrorCode("evse_board_support/MREC2GroundFailure")).toBe("GroundFailure");
    expect(ocppErrorCode("evse_board_support/MREC3HighTemperature")).toBe("HighTemperature");
    expect(ocppErrorCode("evse_manager/MREC4OverCurrentFailure")).toBe("OverCurrentFailure");
    expect(ocppErrorCode("evse_board_support/MREC5OverVoltage")).toBe("OverVoltage");
    expect(ocppErrorCode("evse_board_support/MREC6UnderVoltage")).toBe("UnderVoltage");
    expect(ocppErrorCode("connector_lock/ConnectorLockFailedLock")).toBe("ConnectorLockFailure");
    expect(ocppErrorCode("ac_rcd/DC")).toBe("GroundFailure");
    expect(ocppErrorCode("evse_board_support/DiodeFault")).toBe("OtherError");
    expect(ocppErrorCode("evse_manager/Inoperative")).toBe("OtherError");
  });
});

describe("meter values (ocpp.md §6)", () => {
  test("totals and phases with units and location; SoC from the EV; measurands the meter lacks are left out", () => {
    const reading = {
      timestamp: meter.timestamp,
      energy_Wh_import: { total: 1234.4, L1: 400 },
      power_W: { total: 11000 },
      current_A: { L1: 16, L2: 16, L3: 15.9, N: 0.1 },
      voltage_V: { L1: 230, L2: 231, L3: 229 },
      frequency_Hz: { L1: 50 },
    };
    const out = sampledValues(reading, ["Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "Voltage", "Frequency", "SoC", "Current.Offered", "Energy.Active.Export.Register"], "Sample.Periodic", { currentOffered_A: 16, soc: 42 });
    expect(out).toContainEqual({ value: "1234.4", context: "Sample.Periodic", measurand: "Energy.Active.Import.Register", location: "Outlet", unit: "Wh" });
    expect(out).toContainEqual({ value: "400", context: "Sample.Periodic", measurand: "Energy.Active.Import.Register", location: "Outlet", unit: "Wh", phase: "L1" });
    expect(out.filter((s) => s.measurand === "Current.Import").map((s) => s.phase)).toEqual(["L1", "L2", "L3", "N"]);
    expect(out.find((s) => s.measurand === "SoC")).toEqual({ value: "42", context: "Sample.Periodic", measurand: "SoC", location: "EV", unit: "Percent" });
    expect(out.find((s) => s.measurand === "Current.Offered")!.value).toBe("16");
    expect(out.find((s) => s.measurand === "Frequency")!.unit).toBeUndefined(); // OCPP 1.6 has no Hz unit
    expect(out.some((s) => s.measurand === "Energy.Active.Export.Register")).toBe(false);
  });
});

describe("configuration keys (ocpp.md §7)", () => {
  test("a CSMS change is persisted and wins over the config file, which wins over the default", () => {
    const store = openStore(":memory:");
    const c = new OcppConfiguration(store.ocpp.kv, { MeterValueSampleInterval: "15" }, 2);
    expect(c.get("MeterValueSampleInterval")).toBe("15");
    expect(c.get("ClockAlignedDataInterval")).toBe("0");
    expect(c.get("NumberOfConnectors")).toBe("2");
    expect(c.change("MeterValueSampleInterval", "30")).toBe("Accepted");
    expect(new OcppConfiguration(store.ocpp.kv, { MeterValueSampleInterval: "15" }, 2).get("MeterValueSampleInterval")).toBe("30");
    expect(c.change("Nope", "1")).toBe("NotSupported");
    expect(c.change("GetConfigurationMaxKeys", "5")).toBe("Rejected");
    expect(c.change("LocalPreAuthorize", "maybe")).toBe("Rejected");
    expect(c.change("LocalPreAuthorize", "TRUE")).toBe("Accepted");
    // One behaviour in the kernel: the transaction always ends and the connector unlocks on unplug.
    expect(c.change("StopTransactionOnEVSideDisconnect", "false")).toBe("Rejected");
    expect(c.change("UnlockConnectorOnEVSideDisconnect", "false")).toBe("Rejected");
    expect(c.change("StopTransactionOnEVSideDisconnect", "true")).toBe("Accepted");
    expect(c.get("StopTransactionOnEVSideDisconnect")).toBe("true");
    expect(c.bool("LocalPreAuthorize")).toBe(true);
    expect(c.change("WebsocketPingInterval", "20")).toBe("Accepted");
    expect(c.int("WebSocketPingInterval")).toBe(20);
    store.close();
  });
});

function authority(overrides: Partial<Record<string, boolean>>, answer: () => Promise<any>, online = true) {
  const store = openStore(":memory:");
  const keys: Record<string, boolean> = { LocalAuthListEnabled: true, LocalPreAuthorize: false, LocalAuthorizeOffline: true, AuthorizationCacheEnabled: true, AllowOfflineTxForUnknownId: false, ...overrides };
  const asked: string[] = [];
  const a: OcppAuthority = {
    online: () => online,
    bool: (k) => keys[k] ?? false,
    authorize: async (tag) => {
      asked.push(tag);
      return answer();
    },
    localList: new LocalList(store.ocpp.kv),
    cache: new AuthCache(store.ocpp.kv),
  };
  return { a, asked };
}

describe("token validation (ocpp.md §2.1)", () => {
  const now = Date.parse("2026-06-01T00:00:00Z");
  test("online without LocalPreAuthorize: Authorize.req decides; offline the local list and the cache answer, unknown is Invalid", async () => {
    const { a, asked } = authority({}, async () => ({ status: "Accepted" }));
    a.localList.apply({ listVersion: 1, updateType: "Full", localAuthorizationList: [{ idTag: "LISTED", idTagInfo: { status: "Blocked" } }] }, 100);
    const v = new TokenValidator(a, [], () => now);
    expect((await v.validate("LISTED")).source).toBe("csms");
    expect(asked).toEqual(["LISTED"]);
    const off = authority({}, async () => null, false);
    off.a.localList.apply({ listVersion: 1, updateType: "Full", localAuthorizationList: [{ idTag: "LISTED", idTagInfo: { status: "Blocked" } }] }, 100);
    off.a.cache.update("CACHED", { status: "Accepted", expiryDate: "2027-01-01T00:00:00Z" });
    off.a.cache.update("STALE", { status: "Accepted", expiryDate: "2026-01-01T00:00:00Z" });
    const vo = new TokenValidator(off.a, [], () => now);
    expect(await vo.validate("listed")).toMatchObject({ status: "Blocked", source: "local_list" });
    expect(await vo.validate("CACHED")).toMatchObject({ status: "Accepted", source: "cache" });
    expect(await vo.validate("STALE")).toMatchObject({ status: "Expired", source: "cache" });
    expect(await vo.validate("NEW")).toMatchObject({ status: "Invalid", source: "offline" });
    expect(off.asked).toEqual([]);
  });
  test("AllowOfflineTxForUnknownId accepts unknown tokens offline and when the CSMS does not answer", async () => {
    const { a } = authority({ AllowOfflineTxForUnknownId: true }, async () => null);
    expect(await new TokenValidator(a, [], () => now).validate("NEW")).toMatchObject({ status: "Accepted", source: "offline" });
  });
  test("LocalPreAuthorize online: an Accepted cache entry saves the round trip, a Blocked one asks the CSMS", async () => {
    const { a, asked } = authority({ LocalPreAuthorize: true }, async () => ({ status: "Accepted" }));
    a.cache.update("FAST", { status: "Accepted" });
    a.cache.update("ASK", { status: "Blocked" });
    const v = new TokenValidator(a, [], () => now);
    expect((await v.validate("FAST")).source).toBe("cache");
    expect((await v.validate("ASK")).source).toBe("csms");
    expect(asked).toEqual(["ASK"]);
  });
  test("without OCPP: auth.tokens, case-insensitive, expiry honoured, parent reported", async () => {
    const v = new TokenValidator(null, [{ id_tag: "ABC", status: "Accepted", parent_id_tag: "P", expiry: "2027-01-01T00:00:00Z" }], () => now);
    expect(await v.validate("abc")).toMatchObject({ status: "Accepted", parentIdTag: "P" });
    expect(await new TokenValidator(null, [{ id_tag: "ABC", status: "Accepted", expiry: "2026-01-01T00:00:00Z" }], () => now).validate("ABC")).toMatchObject({ status: "Expired" });
    expect((await v.validate("XYZ")).status).toBe("Invalid");
  });
});

describe("local list (SendLocalList)", () => {
  test("Full replaces, Differential needs a newer version and removes entries without idTagInfo", () => {
    const store = openStore(":memory:");
    const l = new LocalList(store.ocpp.kv);
    expect(l.apply({ listVersion: 2, updateType: "Full", localAuthorizationList: [{ idTag: "A", idTagInfo: { status: "Accepted" } }, { idTag: "B", idTagInfo: { status: "Accepted" } }] }, 10)).toBe("Accepted");
    expect(l.apply({ listVersion: 2, updateType: "Differential", localAuthorizationList: [] }, 10)).toBe("VersionMismatch");
    expect(l.apply({ listVersion: 3, updateType: "Differential", localAuthorizationList: [{ idTag: "A" }] }, 10)).toBe("Accepted");
    expect(l.lookup("A")).toBeNull();
    expect(l.lookup("b")).toEqual({ status: "Accepted" });
    expect(l.apply({ listVersion: 4, updateType: "Full", localAuthorizationList: [{ idTag: "A", idTagInfo: { status: "Accepted" } }, { idTag: "C", idTagInfo: { status: "Accepted" } }] }, 1)).toBe("Failed");
    expect(l.version).toBe(3);
    store.close();
  });
});

describe("transaction queue (ocpp.md §8)", () => {
  test("in order, one at a time; the CSMS transactionId goes into later messages; a lost connection is not an attempt; CALLERRORs are retried and then dropped", async () => {
    const store = openStore(":memory:");
    const config = new OcppConfiguration(store.ocpp.kv, { TransactionMessageAttempts: "2", TransactionMessageRetryInterval: "0" }, 1);
    const sent: [string, any][] = [];
    let connected = false;
    let failNext = 0;
    const transport = {
      connected: () => connected,
      async call(action: string, payload: any) {
        sent.push([action, payload]);
        if (failNext > 0) {
          failNext--;
          throw new Error("CALLERROR InternalError");
        }
        return action === "StartTransaction" ? { transactionId: 77, idTagInfo: { status: "Accepted" } } : {};
      },
    };
    const q = new TransactionQueue(store.ocpp, transport, config, (msg, _p, result) => {
      if (msg.action === "StartTransaction" && result) store.ocpp.transactions.setCsmsId(msg.tx!, result.transactionId);
    }, () => {});
    const local = store.ocpp.transactions.open("uuid-1", 1);
    q.enqueue("StartTransaction", { connectorId: 1, idTag: "A", meterStart: 0, timestamp: meter.timestamp }, local);
    q.enqueue("MeterValues", { connectorId: 1, meterValue: [] }, local);
    q.enqueue("StopTransaction", { meterStop: 5, timestamp: meter.timestamp, reason: "Local" }, local);
    q.setReady(true);
    await Bun.sleep(10);
    expect(sent).toEqual([]); // offline: kept
    expect(q.length).toBe(3);
    connected = true;
    failNext = 1;
    q.kick();
    for (let i = 0; i < 100 && q.length > 0; i++) await Bun.sleep(5);
    expect(sent.map(([a]) => a)).toEqual(["StartTransaction", "StartTransaction", "MeterValues", "StopTransaction"]);
    expect(sent[2]![1].transactionId).toBe(77);
    expect(sent[3]![1].transactionId).toBe(77);
    failNext = 5;
    q.enqueue("StopTransaction", { meterStop: 6, timestamp: meter.timestamp, reason: "Local" }, local);
    for (let i = 0; i < 100 && q.length > 0; i++) await Bun.sleep(5);
    expect(q.length).toBe(0); // two attempts, then given up
    expect(sent.length).toBe(6);
    store.close();
  });
});
describe("configuration file: ocpp.* and auth.* (ocpp.md §1)", () => {
  test("invalid values are refused naming the key; scalars and strings are both accepted", async () => {
    const { parseConfig } = await import("../core/config/index.ts");
    const base = { central_system_url: "ws://127.0.0.1:9000/ocpp", charge_point_id: "CP001" };
    const ok = parseConfig({ ocpp: { ...base, configuration: { MeterValueSampleInterval: 60, AuthorizeRemoteTxRequests: "true", StopTxnSampledData: "Energy.Active.Import.Register" } } }, "c.yaml");
    expect(ok.ocpp.configuration).toEqual({ MeterValueSampleInterval: "60", AuthorizeRemoteTxRequests: "true", StopTxnSampledData: "Energy.Active.Import.Register" });
    const refused = (doc: unknown) => {
      try {
        parseConfig(doc, "c.yaml");
        return null;
      } catch (err) {
        return (err as { path: string }).path;
      }
    };
    expect(refused({ ocpp: { ...base, configuration: { MeterValueSampleInterval: -1 } } })).toBe("ocpp.configuration.MeterValueSampleInterval");
    expect(refused({ ocpp: { ...base, configuration: { NoSuchKey: 1 } } })).toBe("ocpp.configuration.NoSuchKey");
    expect(refused({ ocpp: { ...base, configuration: { NumberOfConnectors: 2 } } })).toBe("ocpp.configuration.NumberOfConnectors");
    expect(refused({ ocpp: { ...base, configuration: { StopTransactionOnEVSideDisconnect: false } } })).toBe("ocpp.configuration.StopTransactionOnEVSideDisconnect");
    expect(refused({ ocpp: { ...base, configuration: { UnlockConnectorOnEVSideDisconnect: true } } })).toBeNull();
    expect(refused({ ocpp: { central_system_url: "ws://h/ocpp" } })).toBe("ocpp.charge_point_id");
    expect(refused({ ocpp: { ...base, central_system_url: "http://h/ocpp" } })).toBe("ocpp.central_system_url");
    expect(refused({ ocpp: { ...base, security_profile: 2 } })).toBe("ocpp.central_system_url");
    expect(refused({ ocpp: { ...base, security_profile: 1 } })).toBe("ocpp.authorization_key");
    expect(refused({ ocpp: { ...base, security_profile: 1, authorization_key: "short" } })).toBeNull(); // ocpp.md sets no length floor
    expect(refused({ ocpp: { ...base, unknown: 1 } })).toBe("ocpp.unknown");
    expect(refused({ auth: { tokens: [{ id_tag: "A", status: "Maybe" }] } })).toBe("auth.tokens[0].status");
    expect(refused({ auth: { connection_timeout_s: 0 } })).toBe("auth.connection_timeout_s");
  });
});

describe("token front end (ocpp.md §2.2, §2.3)", () => {
  type Calls = { evse: number; name: string; args: any }[];

  function setup(n: number, validate: (tag: string) => Promise<any>, reservations: Record<number, { id: number; evse: number; idTag: string; parentIdTag?: string }> = {}) {
    const calls: Calls = [];
    const evses = Array.from({ length: n }, (_, k) => {
      const view = new EvseView(k + 1);
      return {
        view,
        faulted: () => false,
        kernel: {
          async command(name: string, args: any) {
            calls.push({ evse: k + 1, name, args });
            return true;
          },
        },
      };
    });
    const front = new TokenFrontEnd({
      evses: evses as never,
      validator: { validate } as never,
      connectionTimeoutS: () => 60,
      reservationOn: (evse) => reservations[evse] ?? null,
      log: () => {},
    });
    return { evses, front, calls };
  }
  const rfid = (value: string, evse?: number) => ({ id_token: { value, type: "ISO14443" as const }, authorization_type: "RFID" as const, ...(evse ? { evse } : {}) });
  const plug = (view: InstanceType<typeof EvseView>, at: number) => view.observe(ev("SessionStarted", { uuid: `s${view.index}`, session_started: { reason: "EVConnected", meter_value: meter } }), at);

  test("the most recently plugged EVSE without an authorized session gets the token; a named busy EVSE gives NoConnectorAvailable", async () => {
    const { evses, front, calls } = setup(3, async () => ({ status: "Accepted", source: "tokens" }));
    plug(evses[0]!.view, 1000);
    plug(evses[2]!.view, 2000);
    expect(await front.present(rfid("A"))).toEqual({ result: "Authorized", authorization_status: "Accepted", evse: 3 });
    expect(calls[0]).toMatchObject({ evse: 3, name: "authorize_response" });
    evses[2]!.view.observe(ev("Authorized"), 2100);
    expect((await front.present(rfid("B"))).evse).toBe(1);
    evses[0]!.view.observe(ev("Authorized"), 2200);
    expect((await front.present(rfid("C"))).evse).toBe(2); // the free one
    expect(await front.present(rfid("D", 1))).toEqual({ result: "NoConnectorAvailable", authorization_status: null, evse: null });
  });

  test("a token being validated is AlreadyInProcess; a reserved EVSE goes only to its token or its group, with the reservation id", async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const { evses, front, calls } = setup(1, async (tag) => {
      if (tag === "SLOW") await slow;
      return { status: "Accepted", source: "csms", ...(tag === "KID" ? { parentIdTag: "FAMILY" } : {}) };
    }, { 1: { id: 42, evse: 1, idTag: "OWNER", parentIdTag: "FAMILY" } });
    evses[0]!.view.observe(ev("ReservationStart", { uuid: "" }), 0);
    const first = front.present(rfid("SLOW"));
    expect(await front.present(rfid("slow"))).toEqual({ result: "AlreadyInProcess", authorization_status: null, evse: null });
    release();
    expect((await first).result).toBe("NoConnectorAvailable"); // reserved for OWNER
    expect((await front.present(rfid("KID"))).result).toBe("Authorized");
    expect(calls.at(-1)!.args.validation_result).toEqual({ authorization_status: "Accepted", parent_id_token: { value: "FAMILY", type: "Central" }, reservation_id: 42 });
  });
});

describe("MinimumStatusDuration (status-stability.ts)", () => {
  test("0 reports at once; otherwise a status is held until stable, each change restarts the wait, a full report is never held", async () => {
    let minimumMs = 0;
    const rechecks: number[] = [];
    const s = new StatusStability(() => minimumMs, Date.now, (c) => rechecks.push(c));
    const t0 = Date.now();
    expect(s.ready(1, "Preparing", false)).toBeGreaterThanOrEqual(t0);

    minimumMs = 150;
    expect(s.ready(1, "Charging", false)).toBeNull();
    await Bun.sleep(40);
    const changedAt = Date.now();
    expect(s.ready(1, "SuspendedEV", false)).toBeNull(); // restarts the wait
    expect(s.ready(2, "Finishing", false)).toBeNull();
    s.cancel(2); // connector 2 went back to what was sent: nothing to report
    await until("the held status rechecked", async () => rechecks.length, (n) => n === 1, 2000, 10);
    expect(rechecks).toEqual([1]);
    // Stable long enough now: sent, stamped with the time the status began.
    const stamp = s.ready(1, "SuspendedEV", false)!;
    expect(stamp).toBeGreaterThanOrEqual(changedAt - 5);
    expect(stamp).toBeLessThanOrEqual(changedAt + 5);
    expect(Date.now() - stamp).toBeGreaterThanOrEqual(140);
    // A full report goes out at once, stamped now.
    const before = Date.now();
    expect(s.ready(1, "Charging", true)).toBeGreaterThanOrEqual(before);
    await Bun.sleep(200);
    expect(rechecks).toEqual([1]);
    s.stop();
  });
});
