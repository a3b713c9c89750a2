// Kernel-level event sequences of behavior.md §9.2 ("Product" column): the main charging paths.
import { describe, expect, test } from "bun:test";
import { AUTH_A, END_EVENTS, en, enf, FREE_TOKEN, Harness, START_EVENTS, TOKEN_A } from "./kernel-harness.ts";

describe("boot", () => {
  test("row 1: boot with nothing stored announces Enabled once, then ready", async () => {
    const h = await Harness.start();
    expect(h.kernel.started()).toBe(true);
    expect(h.events()).toEqual(["Enabled"]);
    const enabled = h.lastEvent("Enabled");
    expect(enabled.uuid).toBe("");
    expect(enabled.source).toEqual({ enable_source: "Unspecified", enable_state: "Enable", enable_priority: 10000 });
    expect("connector_id" in enabled).toBe(false);
    expect(h.published("ready")).toEqual([true]);
    expect(h.published("evse_id")).toEqual(["DE*PNX*E1234567*1"]);
    expect(h.published("waiting_for_external_ready")).toEqual([false]);
    expect(h.published("selected_protocol")).toEqual(["Unknown"]);
    expect(h.published("limits")).toEqual([{ uuid: "evse_manager_1", max_current: 32, nr_of_phases_available: 3 }]);
    await h.advance(3000);
    expect(h.events()).toEqual(["Enabled"]);
    expect(h.published("limits")).toHaveLength(1);
    expect(h.kernel.errors()).toEqual([]);
  });

  test("publications keep the order: limits, Enabled, ready", async () => {
    const h = await Harness.start();
    const names = h.publications.map((p) => p.name).filter((n) => ["limits", "session_event", "ready"].includes(n));
    expect(names).toEqual(["limits", "session_event", "ready"]);
  });

  test("commands other than get_evse are refused before the kernel has started", async () => {
    const h = await Harness.start({ start: false });
    await expect(h.kernel.command("pause_charging", {})).rejects.toThrow("refused until the kernel has started");
    expect(await h.cmd("get_evse")).toEqual({ id: 1, connectors: [{ id: 1, type: "Unknown" }] });
  });

  test("get_evse omits a connector type that is not a ConnectorTypeEnum value", async () => {
    const h = await Harness.start({ config: { connector_type: "Schuko", connector_id: 7 } });
    expect(await h.cmd("get_evse")).toEqual({ id: 7, connectors: [{ id: 1 }] });
  });
});

describe("plug-in, authorization, charging, unplug", () => {
  test("row 3: plug, authorize, charge, unplug C→A", async () => {
    const h = await Harness.start();
    const m = h.mark();
    await h.car("B");
    expect(h.events(m)).toEqual(["SessionStarted", "AuthRequired"]);
    expect(h.board.locked).toBe(true);
    expect(h.board.duty).toBeNull();
    await h.cmd("authorize_response", AUTH_A);
    expect(h.board.duty).toBeCloseTo(53.33, 2);
    await h.car("C");
    expect(h.board.relays).toBe(true);
    expect(h.events(m)).toEqual(START_EVENTS);
    await h.meterReading(120);
    await h.car("A");
    expect(h.events(m)).toEqual([...START_EVENTS, ...END_EVENTS]);
    expect(h.board.relays).toBe(false);
    expect(h.board.locked).toBe(false);

    const [started, ...rest] = h.sessionEvents().slice(m);
    expect(started!.session_started).toEqual({ reason: "EVConnected", meter_value: expect.any(Object) });
    for (const e of rest) expect(e.uuid).toBe(started!.uuid);
    expect(h.lastEvent("TransactionStarted").transaction_started!.id_tag).toEqual(TOKEN_A);
    const finished = h.lastEvent("TransactionFinished").transaction_finished!;
    expect(finished.reason).toBe("EVDisconnected");
    expect("id_tag" in finished).toBe(false);
    expect(finished.meter_value.energy_Wh_import.total).toBe(120);
    expect(h.published("selected_protocol")).toEqual(["Unknown", "IEC61851-1", "Unknown"]);
    expect(h.store.record).toBeNull();
  });

  test("the meter receives the transaction identification of §5.1", async () => {
    const h = await Harness.start();
    await h.startCharging();
    expect(h.meter!.starts).toEqual([
      {
        evse_id: "DE*PNX*E1234567*1",
        transaction_id: h.lastEvent("SessionStarted").uuid,
        identification_status: "ASSIGNED",
        identification_type: "ISO14443",
        identification_flags: [],
        identification_data: "RFID0001",
      },
    ]);
  });

  test("row 4: authorize first, then plug in; a second authorization while charging is ignored", async () => {
    const h = await Harness.start();
    const m = h.mark();
    await h.cmd("authorize_response", AUTH_A);
    expect(h.events(m)).toEqual(["SessionStarted", "Authorized"]);
    expect(h.lastEvent("SessionStarted").session_started).toMatchObject({ reason: "Authorized", id_tag: TOKEN_A });
    expect(h.board.output).toBe("X1");
    await h.car("B");
    await h.car("C");
    await h.cmd("authorize_response", AUTH_A);
    await h.car("A");
    expect(h.events(m)).toEqual([
      "SessionStarted",
      "Authorized",
      "AuthRequired",
      "TransactionStarted",
      "PrepareCharging",
      "ChargingStarted",
      ...END_EVENTS,
    ]);
    const uuids = new Set(h.sessionEvents().slice(m).map((e) => e.uuid));
    expect(uuids.size).toBe(1);
  });

  test("row 5: plug in, never authorized, unplug: no StoppingCharging", async () => {
    const h = await Harness.start();
    const m = h.mark();
    await h.car("B");
    await h.car("A");
    expect(h.events(m)).toEqual(["SessionStarted", "AuthRequired", "SessionFinished"]);
    await h.advance(1000);
    expect(h.events(m)).toHaveLength(3);
  });

  test("row 25: disable_authentication authorizes each plug-in with FREESERVICE", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    const m = h.mark();
    await h.startCharging({ free: true });
    expect(h.events(m)).toEqual(START_EVENTS);
    expect(h.lastEvent("TransactionStarted").transaction_started!.id_tag).toEqual(FREE_TOKEN as never);
    expect(h.meter!.starts[0]!.identification_type).toBe("LOCAL");
    await h.car("A");
    await h.startCharging({ free: true });
    expect(h.events(m)).toEqual([...START_EVENTS, ...END_EVENTS, ...START_EVENTS]);
    expect(h.lastEvent("SessionStarted").uuid).not.toBe(h.sessionEvents()[m]!.uuid);
  });

  test("a car found in C at plug-in (simplified mode) starts charging once PWM is on", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    const m = h.mark();
    await h.car("C");
    expect(h.events(m)).toEqual(START_EVENTS);
    expect(h.board.relays).toBe(true);
  });

  test("hack_simplified_mode_limit_10A caps the duty at 10 A in simplified mode", async () => {
    const h = await Harness.start({ config: { disable_authentication: true, hack_simplified_mode_limit_10A: true } });
    await h.car("C");
    expect(h.board.duty).toBeCloseTo(16.67, 2);
  });
});

describe("pauses", () => {
  test("row 6: EV pause C→B keeps PWM, resume B→C emits ChargingResumed", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    await h.startCharging({ free: true });
    const m = h.mark();
    await h.car("B");
    expect(h.events(m)).toEqual(["ChargingPausedEV"]);
    expect(h.board.duty).toBeCloseTo(53.33, 2);
    expect(h.board.relays).toBe(false);
    expect(await h.cmd("resume_charging")).toBe(false);
    await h.car("C");
    expect(h.events(m)).toEqual(["ChargingPausedEV", "ChargingResumed"]);
    expect(h.board.relays).toBe(true);
    expect(h.lastEvent("ChargingResumed").charging_state_changed_event).toEqual({ meter_value: expect.any(Object) });
  });

  test("row 7: C→B→A ends with the stop procedure", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    await h.startCharging({ free: true });
    const m = h.mark();
    await h.car("B");
    await h.car("A");
    expect(h.events(m)).toEqual(["ChargingPausedEV", ...END_EVENTS]);
  });

  test("row 8: pause_charging / resume_charging go straight back to PrepareCharging", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    await h.startCharging({ free: true });
    const m = h.mark();
    expect(await h.cmd("pause_charging")).toBe(true);
    expect(h.events(m)).toEqual(["ChargingPausedEVSE"]);
    expect(h.board.output).toBe("X1");
    await h.car("B"); // the EV follows the missing PWM
    expect(h.board.relays).toBe(false);
    expect(await h.cmd("pause_charging")).toBe(true);
    expect(h.events(m)).toEqual(["ChargingPausedEVSE"]);
    expect(await h.cmd("resume_charging")).toBe(true);
    expect(h.events(m)).toEqual(["ChargingPausedEVSE", "PrepareCharging"]);
    expect(h.board.duty).toBeCloseTo(53.33, 2);
    await h.car("C");
    expect(h.events(m)).toEqual(["ChargingPausedEVSE", "PrepareCharging", "ChargingStarted"]);
    expect(await h.cmd("resume_charging")).toBe(false);
  });

  test("D11: an EV that goes to C during an EVSE pause is resumed without a B/C toggle", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    await h.startCharging({ free: true });
    await h.cmd("pause_charging");
    await h.car("B");
    await h.car("C");
    expect(h.board.relays).toBe(false);
    const m = h.mark();
    expect(await h.cmd("resume_charging")).toBe(true);
    expect(h.events(m)).toEqual(["PrepareCharging", "ChargingStarted"]);
    expect(h.board.relays).toBe(true);
  });

  test("an EV staying in C after an EVSE pause gets its relays opened by the 6 s C1 rule", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    await h.startCharging({ free: true });
    await h.cmd("pause_charging");
    expect(h.board.relays).toBe(true); // the pause itself sends no R−
    h.board.take();
    await h.advance(5800);
    expect(h.board.calls).not.toContain("allow_power_on(false,PowerOff)");
    await h.advance(400);
    expect(h.board.calls).toContain("allow_power_on(false,PowerOff)");
    expect(h.board.relays).toBe(false);
  });
});

describe("stop_transaction", () => {
  test("row 10: stop_transaction waits for the relays, then Finished until unplug", async () => {
    const h = await Harness.start();
    await h.startCharging();
    const m = h.mark();
    const request = { reason: "Local", id_tag: TOKEN_A };
    h.board.weld = true; // hold the relays closed so the wait is visible
    expect(await h.cmd("stop_transaction", { request })).toBe(true);
    expect(h.events(m)).toEqual(["StoppingCharging"]);
    h.board.setWeld(false);
    await h.settle();
    expect(h.events(m)).toEqual(["StoppingCharging", "ChargingFinished", "TransactionFinished"]);
    expect(h.lastEvent("TransactionFinished").transaction_finished).toMatchObject({ reason: "Local", id_tag: TOKEN_A });
    expect(await h.cmd("stop_transaction", { request: { reason: "Remote" } })).toBe(false);
    expect(await h.cmd("pause_charging")).toBe(false);
    expect(await h.cmd("resume_charging")).toBe(false);
    await h.cmd("authorize_response", AUTH_A);
    await h.car("B");
    await h.car("C");
    await h.advance(3000);
    expect(h.events(m)).toEqual(["StoppingCharging", "ChargingFinished", "TransactionFinished"]);
    expect(h.board.output).toBe("X1");
    expect(h.published("selected_protocol").at(-1)).toBe("Unknown");
    await h.car("A");
    expect(h.events(m)).toEqual(["StoppingCharging", "ChargingFinished", "TransactionFinished", "SessionFinished"]);
  });

  test("the board's request_stop_transaction behaves like stop_transaction", async () => {
    const h = await Harness.start();
    await h.startCharging();
    const m = h.mark();
    h.input({ kind: "request_stop_transaction", value: { reason: "EmergencyStop" } });
    await h.settle();
    expect(h.events(m)).toEqual(["StoppingCharging", "ChargingFinished", "TransactionFinished"]);
    expect(h.lastEvent("TransactionFinished").transaction_finished!.reason).toBe("EmergencyStop");
  });

  test("signed meter values of an OK stop answer pass through unchanged", async () => {
    const h = await Harness.start();
    const signed = { signed_meter_data: "OCMF|{\"FV\":\"1.0\"}|{\"SA\":\"ECDSA\"}", signing_method: "", encoding_method: "OCMF", public_key: "AB" };
    h.meter!.stopResponse = { status: "OK", start_signed_meter_value: signed, signed_meter_value: signed };
    await h.startCharging();
    await h.car("A");
    const tf = h.lastEvent("TransactionFinished").transaction_finished!;
    expect(tf.signed_meter_value).toEqual(signed);
    expect(tf.start_signed_meter_value).toEqual(signed);
  });
});

describe("CP E", () => {
  test("row 24: E while charging ends transaction and session", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    await h.startCharging({ free: true });
    const m = h.mark();
    await h.car("E");
    expect(h.events(m)).toEqual(END_EVENTS);
    expect(h.lastEvent("TransactionFinished").transaction_finished!.reason).toBe("EVDisconnected");
    await h.advance(2000);
    expect(h.events(m)).toEqual(END_EVENTS);
    expect(h.board.locked).toBe(false);
  });

  test("Q14: E before authorization ends the session; E→B starts a new one", async () => {
    const h = await Harness.start();
    const m = h.mark();
    await h.car("B");
    await h.car("E");
    expect(h.events(m)).toEqual(["SessionStarted", "AuthRequired", "SessionFinished"]);
    await h.car("B");
    expect(h.events(m)).toEqual(["SessionStarted", "AuthRequired", "SessionFinished", "SessionStarted", "AuthRequired"]);
  });
});

describe("withdraw_authorization [D9]", () => {
  test("rows 17–20", async () => {
    const h = await Harness.start();
    const m = h.mark();
    await h.cmd("withdraw_authorization"); // row 18: no session
    expect(h.events(m)).toEqual([]);
    await h.cmd("authorize_response", AUTH_A);
    await h.cmd("withdraw_authorization"); // row 17
    expect(h.events(m)).toEqual(["SessionStarted", "Authorized", "Deauthorized", "SessionFinished"]);
    await h.car("B");
    await h.cmd("withdraw_authorization"); // row 19
    expect(h.events(m).slice(4)).toEqual(["SessionStarted", "AuthRequired", "PluginTimeout"]);
    await h.cmd("authorize_response", AUTH_A);
    expect(h.events(m).slice(7)).toEqual(["Authorized", "TransactionStarted", "PrepareCharging"]);
    await h.cmd("withdraw_authorization"); // row 20: transaction active
    expect(h.events(m)).toHaveLength(10);
    expect(h.board.duty).toBeCloseTo(53.33, 2);
  });

  test("Q32: withdrawing an authorization whose transaction could not start keeps the session", async () => {
    const meterFails = await Harness.start();
    meterFails.meter!.startResponse = { status: "UNEXPECTED_ERROR" };
    await meterFails.car("B");
    await meterFails.cmd("authorize_response", AUTH_A);
    const m = meterFails.mark();
    await meterFails.cmd("withdraw_authorization");
    expect(meterFails.events(m)).toEqual(["Deauthorized"]);
    expect(meterFails.kernel.errors().map((e) => e.type)).toContain("evse_manager/PowermeterTransactionStartFailed");
  });
});

describe("energy", () => {
  test("row 9: 0 A while charging → WaitingForEnergy; 16 A → PrepareCharging, ChargingStarted", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    await h.startCharging({ free: true });
    const m = h.mark();
    await h.enforce(enf(0, h.clock));
    expect(h.events(m)).toEqual(["WaitingForEnergy"]);
    expect(h.board.output).toBe("X1");
    await h.car("B");
    expect(h.board.relays).toBe(false);
    await h.advance(3000);
    expect(h.events(m)).toEqual(["WaitingForEnergy"]);
    await h.enforce(enf(16, h.clock));
    expect(h.events(m)).toEqual(["WaitingForEnergy", "PrepareCharging"]);
    expect(h.board.duty).toBeCloseTo(26.67, 2);
    await h.car("C");
    expect(h.events(m)).toEqual(["WaitingForEnergy", "PrepareCharging", "ChargingStarted"]);
    expect((h.published("limits").at(-1) as { max_current: number }).max_current).toBe(16);
  });

  test("0 A before plug-in: the transaction starts and waits for energy", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    await h.enforce(enf(0, h.clock));
    const m = h.mark();
    await h.car("B");
    expect(h.events(m)).toEqual(["SessionStarted", "AuthRequired", "Authorized", "TransactionStarted", "PrepareCharging", "WaitingForEnergy"]);
    await h.enforce(enf(10, h.clock));
    expect(h.board.duty).toBeCloseTo(16.67, 2);
    await h.car("C");
    expect(h.events(m).slice(6)).toEqual(["PrepareCharging", "ChargingStarted"]);
  });
});

describe("enable/disable", () => {
  test("row 11: disable while charging stops the transaction first, enable starts a new session", async () => {
    const h = await Harness.start();
    await h.startCharging();
    const m = h.mark();
    expect(await h.cmd("enable_disable", en("CSMS", "Disable", 100))).toBe(false);
    expect(h.events(m)).toEqual(["StoppingCharging", "ChargingFinished", "TransactionFinished", "Disabled", "SessionFinished"]);
    expect(h.lastEvent("TransactionFinished").transaction_finished!.reason).toBe("Local");
    expect(h.lastEvent("Disabled").source).toEqual({ enable_source: "CSMS", enable_state: "Disable", enable_priority: 100 });
    expect(h.board.output).toBe("F");
    expect(h.board.relays).toBe(false);
    expect(h.store.record).toBeNull();
    expect(await h.cmd("pause_charging")).toBe(false);
    expect(await h.cmd("stop_transaction", { request: { reason: "Local" } })).toBe(false);
    await h.cmd("authorize_response", AUTH_A);
    expect(h.events(m)).toHaveLength(5);
    expect(await h.cmd("enable_disable", en("CSMS", "Enable", 100))).toBe(true);
    expect(h.events(m).slice(5)).toEqual(["Enabled", "SessionStarted", "AuthRequired"]);
    await h.cmd("authorize_response", AUTH_A);
    expect(h.events(m).slice(8)).toEqual(["Authorized", "TransactionStarted", "PrepareCharging", "ChargingStarted"]);
  });

  test("the connector unlocks 5 s after F began while disabled", async () => {
    const h = await Harness.start();
    await h.startCharging();
    await h.cmd("enable_disable", en("CSMS", "Disable", 100));
    expect(h.board.locked).toBe(true);
    await h.advance(4800);
    expect(h.board.locked).toBe(true);
    await h.advance(400);
    expect(h.board.locked).toBe(false);
  });

  test("row 12: enable_disable that does not change the effective state emits nothing", async () => {
    const h = await Harness.start();
    const m = h.mark();
    expect(await h.cmd("enable_disable", en("CSMS", "Enable", 100))).toBe(true);
    expect(h.events(m)).toEqual([]);
    await h.cmd("enable_disable", en("CSMS", "Disable", 100));
    await h.cmd("enable_disable", en("LocalAPI", "Disable", 200));
    expect(h.events(m)).toEqual(["Disabled"]);
  });

  test("Q13: a CP unplug while Disabled does not enable", async () => {
    const h = await Harness.start();
    await h.car("B");
    await h.cmd("enable_disable", en("CSMS", "Disable", 100));
    const m = h.mark();
    await h.car("A");
    await h.advance(500);
    expect(h.events(m)).toEqual([]);
    expect(h.board.output).toBe("F");
  });
});
