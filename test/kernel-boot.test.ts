// Boot (behavior.md §16.3–16.4, D7, D10), the persistent record (§16.1) and shutdown (§16.5).
import { describe, expect, test } from "bun:test";
import type { TransactionRecord } from "../core/ports.ts";
import { AUTH_A, CAPABILITIES, Harness, MemoryStore, reading, T0, TOKEN_A } from "./kernel-harness.ts";

function storedRecord(): MemoryStore {
  const store = new MemoryStore();
  const mv = (wh: number) => ({ timestamp: "2025-03-01T11:00:00.000Z", energy_Wh_import: { total: wh } });
  const record: TransactionRecord = {
    uuid: "interrupted-uuid",
    id_tag: TOKEN_A,
    start_meter_value: mv(100),
    latest_meter_value: mv(180),
    started_at: "2025-03-01T10:59:00.000Z",
  };
  store.record = record;
  return store;
}

describe("boot sequence", () => {
  test("the kernel starts only after the first capabilities report", async () => {
    const h = await Harness.start({ start: false });
    h.input({ kind: "powermeter", value: reading(0, h.clock) });
    await h.advance(10000);
    expect(h.kernel.started()).toBe(false);
    expect(h.events()).toEqual([]);
    h.input({ kind: "capabilities", value: CAPABILITIES });
    await h.settle();
    expect(h.kernel.started()).toBe(true);
    expect(h.published("hw_capabilities")).toEqual([CAPABILITIES]);
  });

  test("it waits up to initial_meter_value_timeout_ms for a first meter value", async () => {
    const h = await Harness.start({ start: false, config: { initial_meter_value_timeout_ms: 2000 } });
    h.input({ kind: "capabilities", value: CAPABILITIES });
    await h.advance(1800);
    expect(h.kernel.started()).toBe(false);
    await h.advance(300);
    expect(h.kernel.started()).toBe(true);
  });

  test("row 2 / D7: a stored transaction ends with PowerLoss carrying its uuid, token and last meter value", async () => {
    const store = storedRecord();
    const h = await Harness.start({ store });
    expect(h.events()).toEqual(["TransactionFinished", "Enabled"]);
    const tf = h.sessionEvents()[0]!;
    expect(tf.uuid).toBe("interrupted-uuid");
    expect(tf.transaction_finished).toEqual({
      reason: "PowerLoss",
      id_tag: TOKEN_A,
      meter_value: { timestamp: "2025-03-01T11:00:00.000Z", energy_Wh_import: { total: 180 } },
    });
    expect(h.meter!.stops).toEqual(["interrupted-uuid", ""]);
    expect(store.record).toBeNull();
    await h.advance(2000);
    expect(h.events()).toEqual(["TransactionFinished", "Enabled"]); // car not plugged: no SessionResumed
  });

  test("D7: with the car still plugged, SessionResumed precedes a new session that needs a new authorization", async () => {
    const h = await Harness.start({ store: storedRecord(), car: "B" });
    expect(h.events()).toEqual(["TransactionFinished", "Enabled", "SessionResumed", "SessionStarted", "AuthRequired"]);
    expect(h.lastEvent("SessionResumed").uuid).toBe("interrupted-uuid");
    const started = h.lastEvent("SessionStarted");
    expect(started.uuid).not.toBe("interrupted-uuid");
    expect(started.session_started!.reason).toBe("EVConnected");
    expect(h.board.duty).toBeNull();
    await h.cmd("authorize_response", AUTH_A);
    expect(h.events().slice(5)).toEqual(["Authorized", "TransactionStarted", "PrepareCharging"]);
  });

  test("without a record only stop_transaction(\"\") is sent to the meter", async () => {
    const h = await Harness.start();
    expect(h.meter!.stops).toEqual([""]);
  });
});

describe("external_ready_to_start_charging [D10]", () => {
  test("holds the kernel until the command; a second call changes nothing", async () => {
    const h = await Harness.start({ config: { external_ready_to_start_charging: true } });
    await h.advance(3000);
    expect(h.events()).toEqual([]);
    expect(h.published("waiting_for_external_ready")).toEqual([true]);
    expect(h.published("ready")).toEqual([]);
    await h.car("B"); // ignored before the start
    expect(h.events()).toEqual([]);
    await expect(h.kernel.command("reserve", { reservation_id: 1 })).rejects.toThrow();
    const from = h.publications.length;
    expect(await h.cmd("external_ready_to_start_charging")).toBe(true);
    const order = h.publications
      .slice(from)
      .map((p) => (p.name === "session_event" ? (p.value as { event: string }).event : p.name))
      .filter((n) => n !== "limits" && n !== "ev_info" && n !== "selected_protocol");
    expect(order).toEqual(["waiting_for_external_ready", "Enabled", "ready", "SessionStarted", "AuthRequired"]);
    const again = h.publications.length;
    expect(await h.cmd("external_ready_to_start_charging")).toBe(false);
    await h.advance(2000);
    expect(h.publications.slice(again).filter((p) => p.name !== "limits")).toEqual([]);
  });

  test("with the option false the command returns false and publishes nothing", async () => {
    const h = await Harness.start();
    const from = h.publications.length;
    expect(await h.cmd("external_ready_to_start_charging")).toBe(false);
    expect(h.publications.slice(from)).toEqual([]);
  });
});

describe("persistent record (§16.1) and shutdown (§16.5)", () => {
  test("written at transaction start, refreshed while charging, cleared at the end", async () => {
    const h = await Harness.start();
    await h.startCharging();
    const started = h.lastEvent("SessionStarted").uuid;
    expect(h.store.record).toMatchObject({ uuid: started, id_tag: TOKEN_A });
    await h.meterReading(55);
    await h.advance(10000);
    expect(h.store.record!.latest_meter_value.energy_Wh_import.total).toBe(55);
    await h.car("A");
    expect(h.store.record).toBeNull();
  });

  test("shutdown opens the relays, sets X1 and keeps the record with the latest meter value", async () => {
    const h = await Harness.start();
    await h.startCharging();
    await h.meterReading(77);
    await h.kernel.shutdown();
    await h.settle();
    expect(h.board.relays).toBe(false);
    expect(h.board.output).toBe("X1");
    expect(h.store.record!.latest_meter_value.energy_Wh_import.total).toBe(77);
  });

  test("payloads before the first meter reading carry a zero reading stamped now [Q27]", async () => {
    const h = await Harness.start({ start: false, config: { initial_meter_value_timeout_ms: 0 } });
    h.input({ kind: "capabilities", value: CAPABILITIES });
    await h.settle();
    await h.car("B");
    expect(h.lastEvent("SessionStarted").session_started!.meter_value).toEqual({
      timestamp: new Date(T0).toISOString(),
      energy_Wh_import: { total: 0 },
    });
  });
});

describe("board publications pass through unchanged", () => {
  test("telemetry, powermeter and the OCMF public key", async () => {
    const h = await Harness.start();
    const telemetry = { evse_temperature_C: 30, fan_rpm: 0, supply_voltage_12V: 12, supply_voltage_minus_12V: -12, relais_on: false };
    h.input({ kind: "telemetry", value: telemetry });
    h.input({ kind: "public_key_ocmf", value: "TESTPUBLICKEY1" });
    await h.settle();
    expect(h.published("telemetry")).toEqual([telemetry]);
    expect(h.published("powermeter_public_key_ocmf")).toEqual(["TESTPUBLICKEY1"]);
    expect(h.published("powermeter")).toHaveLength(1);
  });
});
