// Reservations (behavior.md §12) and enable/disable arbitration through the kernel (§11), rows
// 21–23 of §9.2 and scenarios S11–S14.
import { describe, expect, test } from "bun:test";
import { AUTH_A, END_EVENTS, en, Harness, TOKEN_A } from "./kernel-harness.ts";

const authWithReservation = (id: number) => ({
  provided_token: TOKEN_A,
  validation_result: { authorization_status: "Accepted", reservation_id: id },
});

describe("reservations", () => {
  test("row 21: reserve, plug, authorize: the transaction consumes it", async () => {
    const h = await Harness.start();
    const m = h.mark();
    expect(await h.cmd("reserve", { reservation_id: 42 })).toBe(true);
    await h.car("B");
    expect(h.lastEvent("SessionStarted").session_started!.reservation_id).toBe(42);
    await h.cmd("authorize_response", authWithReservation(42));
    await h.car("C");
    expect(h.events(m)).toEqual([
      "ReservationStart",
      "SessionStarted",
      "AuthRequired",
      "Authorized",
      "ReservationEnd",
      "TransactionStarted",
      "PrepareCharging",
      "ChargingStarted",
    ]);
    expect(h.lastEvent("TransactionStarted").transaction_started!.reservation_id).toBe(42);
    for (const e of h.sessionEvents().filter((x) => x.event.startsWith("Reservation"))) expect(e.uuid).toBe("");
    await h.cmd("cancel_reservation");
    expect(await h.cmd("reserve", { reservation_id: 43 })).toBe(false);
    expect(h.events(m)).toHaveLength(8);
  });

  test("row 22: reserve, authorize first, plug: one ReservationEnd, the id stays with the session [Q17]", async () => {
    const h = await Harness.start();
    const m = h.mark();
    await h.cmd("reserve", { reservation_id: 7 });
    await h.cmd("authorize_response", authWithReservation(7));
    expect(h.events(m)).toEqual(["ReservationStart", "ReservationEnd", "SessionStarted", "Authorized"]);
    expect(h.lastEvent("SessionStarted").session_started).toMatchObject({ reason: "Authorized", id_tag: TOKEN_A, reservation_id: 7 });
    await h.car("B");
    await h.car("C");
    expect(h.events(m).slice(4)).toEqual(["AuthRequired", "TransactionStarted", "PrepareCharging", "ChargingStarted"]);
    expect(h.lastEvent("TransactionStarted").transaction_started!.reservation_id).toBe(7);
  });

  test("row 23 and repeats: same id is a silent repeat, another id is refused, −1 can be upgraded", async () => {
    const h = await Harness.start();
    const m = h.mark();
    const r = async (id: number) => h.cmd("reserve", { reservation_id: id });
    expect(await r(9)).toBe(true);
    expect(await r(9)).toBe(true);
    expect(await r(10)).toBe(false);
    expect(await h.cmd("cancel_reservation")).toBeNull();
    await h.cmd("cancel_reservation");
    expect(await r(-1)).toBe(true);
    expect(await r(-5)).toBe(true); // any negative id is −1
    expect(await r(11)).toBe(true);
    expect(await r(-1)).toBe(false);
    await h.cmd("cancel_reservation");
    expect(await r(-1)).toBe(true);
    await h.car("B");
    expect(h.events(m)).toEqual([
      "ReservationStart",
      "ReservationEnd",
      "ReservationStart",
      "ReservationStart",
      "ReservationEnd",
      "ReservationStart",
      "SessionStarted",
      "AuthRequired",
    ]);
    expect("reservation_id" in h.lastEvent("SessionStarted").session_started!).toBe(false); // [Q18]
  });

  test("refused while a session is open, authorized first, disabled or faulted (S13)", async () => {
    const h = await Harness.start();
    const m = h.mark();
    await h.car("B");
    expect(await h.cmd("reserve", { reservation_id: 5 })).toBe(false);
    await h.car("A");
    await h.cmd("authorize_response", AUTH_A);
    expect(await h.cmd("reserve", { reservation_id: 5 })).toBe(false); // [Q19]
    await h.cmd("withdraw_authorization");
    await h.cmd("enable_disable", en("LocalAPI", "Disable", 100));
    expect(await h.cmd("reserve", { reservation_id: 5 })).toBe(false);
    expect(await h.cmd("enable_disable", en("LocalAPI", "Enable", 100))).toBe(true);
    await h.cmd("set_faulted");
    expect(await h.cmd("reserve", { reservation_id: 5 })).toBe(false);
    expect(await h.cmd("enable_disable", en("LocalAPI", "Enable", 100))).toBe(true);
    expect(h.kernel.errors()).toEqual([]);
    expect(await h.cmd("reserve", { reservation_id: 5 })).toBe(true);
    expect(await h.cmd("enable_disable", en("LocalAPI", "Disable", 100))).toBe(false);
    await h.cmd("enable_disable", en("LocalAPI", "Enable", 100));
    await h.cmd("reserve", { reservation_id: 6 });
    await h.cmd("set_faulted");
    expect(h.events(m)).toEqual([
      "SessionStarted",
      "AuthRequired",
      "SessionFinished",
      "SessionStarted",
      "Authorized",
      "Deauthorized",
      "SessionFinished",
      "Disabled",
      "Enabled",
      "ReservationStart",
      "Disabled",
      "ReservationEnd",
      "Enabled",
      "ReservationStart",
      "ReservationEnd",
    ]);
  });

  test("withdraw_authorization of an EIM-authorized session ends a pending reservation", async () => {
    // A socket whose cable is not recognised keeps the authorized session waiting (§7.5).
    const h = await Harness.start({ capabilities: { connector_type: "IEC62196Type2Socket" } });
    h.board.pp = "None";
    await h.cmd("reserve", { reservation_id: 3 });
    await h.car("B");
    await h.cmd("authorize_response", AUTH_A);
    const m = h.mark();
    await h.cmd("withdraw_authorization");
    expect(h.events(m)).toEqual(["ReservationEnd", "Deauthorized"]);
  });
});

describe("enable/disable arbitration (S14)", () => {
  test("sources, priorities, connector-level flag and ignored connector ids", async () => {
    const h = await Harness.start();
    const m = h.mark();
    const call = (src: string, state: "Enable" | "Disable" | "Unassigned", prio: number, conn = 0) =>
      h.cmd("enable_disable", en(src, state, prio, conn));
    expect(await call("CSMS", "Disable", 100)).toBe(false);
    expect(h.board.output).toBe("F");
    expect(await call("LocalAPI", "Enable", 50)).toBe(true);
    expect(h.board.output).toBe("X1");
    expect(await call("ServiceTechnician", "Disable", 50)).toBe(false);
    expect(await call("LocalAPI", "Enable", 50)).toBe(false);
    expect(await call("ServiceTechnician", "Unassigned", 50)).toBe(true);
    expect(await call("LocalAPI", "Unassigned", 0)).toBe(false);
    expect(await call("CSMS", "Enable", 100)).toBe(true);
    expect(await call("CSMS", "Enable", 100)).toBe(true);
    expect(await call("MobileApp", "Disable", 10, 1)).toBe(false);
    expect(await call("MobileApp", "Enable", 10, 0)).toBe(false); // [Q12]
    expect(await call("MobileApp", "Enable", 10, 1)).toBe(true);
    expect(await call("CSMS", "Disable", 0, 2)).toBe(true); // [Q23]
    const events = h.sessionEvents().slice(m);
    expect(events.map((e) => [e.event, e.source, e.connector_id])).toEqual([
      ["Disabled", { enable_source: "CSMS", enable_state: "Disable", enable_priority: 100 }, undefined],
      ["Enabled", { enable_source: "LocalAPI", enable_state: "Enable", enable_priority: 50 }, undefined],
      ["Disabled", { enable_source: "ServiceTechnician", enable_state: "Disable", enable_priority: 50 }, undefined],
      ["Enabled", { enable_source: "LocalAPI", enable_state: "Enable", enable_priority: 50 }, undefined],
      ["Disabled", { enable_source: "CSMS", enable_state: "Disable", enable_priority: 100 }, undefined],
      ["Enabled", { enable_source: "CSMS", enable_state: "Enable", enable_priority: 100 }, undefined],
      ["Disabled", { enable_source: "MobileApp", enable_state: "Disable", enable_priority: 10 }, 1],
      ["Enabled", { enable_source: "MobileApp", enable_state: "Enable", enable_priority: 10 }, 1],
    ]);
  });

  test("Q25: disabling with an open session ends it right after Disabled; enable picks the car up again", async () => {
    const h = await Harness.start();
    await h.car("B");
    const m = h.mark();
    await h.cmd("enable_disable", en("CSMS", "Disable", 100));
    expect(h.events(m)).toEqual(["Disabled", "SessionFinished"]);
    expect(h.lastEvent("Disabled").uuid).toBe(h.lastEvent("SessionFinished").uuid);
    await h.cmd("enable_disable", en("CSMS", "Enable", 100));
    expect(h.events(m)).toEqual(["Disabled", "SessionFinished", "Enabled", "SessionStarted", "AuthRequired"]);
  });

  test("Q24: an authorization while Disabled opens no session", async () => {
    const h = await Harness.start();
    await h.cmd("enable_disable", en("CSMS", "Disable", 100));
    const m = h.mark();
    await h.cmd("authorize_response", AUTH_A);
    expect(h.events(m)).toEqual([]);
  });

  test("disable during an EV-paused transaction ends it with reason Local [D4]", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    await h.startCharging({ free: true });
    await h.car("B");
    const m = h.mark();
    await h.cmd("enable_disable", en("CSMS", "Disable", 100));
    expect(h.events(m)).toEqual([...END_EVENTS.slice(0, 3), "Disabled", "SessionFinished"]);
  });
});
