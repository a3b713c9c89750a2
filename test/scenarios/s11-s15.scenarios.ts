// Acceptance scenarios S11–S15 (scenarios.md): reservations, enable/disable arbitration, disable while charging.
import { expect, test } from "bun:test";
import {
  AUTH_A,
  DIS,
  EN,
  END_EVENTS,
  PLUG_CHARGE,
  PLUG_ONLY,
  SCENARIO_TIMEOUT,
  START_EVENTS,
  TOKEN_A,
  endUnplug,
  now,
  scenario,
  sleep,
  source,
  startAuth,
  type SessionEvent,
} from "./harness.ts";

const ev = (m: { data: unknown }) => m.data as SessionEvent;

test.concurrent(
  "S11 a reservation is consumed by the matching authorization, plug-first and authorize-first (Q17)",
  () =>
    scenario(async ({ start }) => {
      const s = await start();
      // Part A — reserve, plug, authorize
      let m = s.mark();
      await s.cmdIs("reserve", { reservation_id: 42 }, true);
      await s.eventsSince(m, ["ReservationStart"]);

      m = s.mark();
      await s.car(PLUG_CHARGE);
      await s.waitEvent("AuthRequired");
      const [started] = await s.eventsSince(m, ["SessionStarted", "AuthRequired"]);
      expect(ev(started!).session_started.reservation_id).toBe(42);

      m = s.mark();
      await s.cmdIs(
        "authorize_response",
        { provided_token: TOKEN_A, validation_result: { authorization_status: "Accepted", reservation_id: 42 } },
        null,
      );
      await s.waitEvent("ChargingStarted");
      const a3 = await s.eventsSince(m, ["Authorized", "ReservationEnd", "TransactionStarted", "PrepareCharging", "ChargingStarted"]);
      expect(ev(a3[2]!).transaction_started.reservation_id).toBe(42);

      m = s.mark();
      await s.cmdIs("cancel_reservation", {}, null);
      await s.cmdIs("reserve", { reservation_id: 43 }, false);
      await s.noEventFor(1000, "cancel_reservation / reserve while charging");
      await endUnplug(s);

      // Part B — reserve, authorize first, plug
      m = s.mark();
      await s.cmdIs("reserve", { reservation_id: 7 }, true);
      await s.eventsSince(m, ["ReservationStart"]);

      m = s.mark();
      await s.cmdIs(
        "authorize_response",
        { provided_token: TOKEN_A, validation_result: { authorization_status: "Accepted", reservation_id: 7 } },
        null,
      );
      const b2 = await s.eventsSince(m, ["ReservationEnd", "SessionStarted", "Authorized"]);
      const ss = ev(b2[1]!).session_started;
      expect(ss.reason).toBe("Authorized");
      expect(ss.id_tag).toEqual(TOKEN_A);
      expect(ss.reservation_id).toBe(7);

      m = s.mark();
      await s.car(PLUG_CHARGE, true);
      await s.waitEvent("ChargingStarted");
      const b3 = await s.eventsSince(m, ["AuthRequired", "TransactionStarted", "PrepareCharging", "ChargingStarted"]);
      expect(ev(b3[1]!).transaction_started.reservation_id).toBe(7);
      await endUnplug(s);

      await s.finish([
        "ReservationStart",
        "SessionStarted",
        "AuthRequired",
        "Authorized",
        "ReservationEnd",
        "TransactionStarted",
        "PrepareCharging",
        "ChargingStarted",
        ...END_EVENTS,
        "ReservationStart",
        "ReservationEnd",
        "SessionStarted",
        "Authorized",
        "AuthRequired",
        "TransactionStarted",
        "PrepareCharging",
        "ChargingStarted",
        ...END_EVENTS,
      ]);
      expect(s.all("ReservationEnd").length).toBe(2);
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S12 reservations: repeated ids are idempotent, others refused, cancel ends once, global reservations carry no id (Q18, Q20)",
  () =>
    scenario(async ({ start }) => {
      const s = await start();
      const steps: Array<[string, unknown, unknown, string[]]> = [
        ["reserve", { reservation_id: 9 }, true, ["ReservationStart"]],
        ["reserve", { reservation_id: 9 }, true, []],
        ["reserve", { reservation_id: 10 }, false, []],
        ["cancel_reservation", {}, null, ["ReservationEnd"]],
        ["cancel_reservation", {}, null, []],
        ["reserve", { reservation_id: -1 }, true, ["ReservationStart"]],
        ["reserve", { reservation_id: -1 }, true, []],
        ["reserve", { reservation_id: 11 }, true, ["ReservationStart"]],
        ["cancel_reservation", {}, null, ["ReservationEnd"]],
      ];
      for (const [i, [name, body, result, events]] of steps.entries()) {
        const m = s.mark();
        await s.cmdIs(name, body, result);
        if (events.length > 0) await s.eventsSince(m, events);
        await sleep(500);
        expect({ step: i + 1, events: s.names().slice(m) }).toEqual({ step: i + 1, events });
      }
      const m = s.mark();
      await s.cmdIs("reserve", { reservation_id: -1 }, true);
      await s.car(PLUG_ONLY);
      const got = await s.eventsSince(m, ["ReservationStart", "SessionStarted", "AuthRequired"]);
      expect("reservation_id" in ev(got[1]!).session_started).toBe(false);

      await s.finish([
        "ReservationStart",
        "ReservationEnd",
        "ReservationStart",
        "ReservationStart",
        "ReservationEnd",
        "ReservationStart",
        "SessionStarted",
        "AuthRequired",
      ]);
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S13 reserve is refused while occupied, authorized, disabled or faulted, and disable/fault end a reservation (Q19, D12)",
  () =>
    scenario(async ({ start }) => {
      const s = await start();
      // 1
      await s.car(PLUG_ONLY);
      await s.waitEvent("AuthRequired");
      await s.cmdIs("reserve", { reservation_id: 5 }, false);
      // 2
      let m = s.mark();
      await s.car("unplug", true);
      await s.eventsSince(m, ["SessionFinished"]);
      // 3
      m = s.mark();
      await s.cmdIs("authorize_response", AUTH_A, null);
      await s.cmdIs("reserve", { reservation_id: 5 }, false);
      await s.eventsSince(m, ["SessionStarted", "Authorized"]);
      // 4
      m = s.mark();
      await s.cmdIs("withdraw_authorization", {}, null);
      await s.eventsSince(m, ["Deauthorized", "SessionFinished"]);
      // 5
      m = s.mark();
      await s.cmdIs("enable_disable", DIS("LocalAPI", 100), false);
      await s.cmdIs("reserve", { reservation_id: 5 }, false);
      await s.eventsSince(m, ["Disabled"]);
      // 6
      m = s.mark();
      await s.cmdIs("enable_disable", EN("LocalAPI", 100), true);
      await s.eventsSince(m, ["Enabled"]);
      // The board reports the end of Disabled's F (F → A, a CarUnplugged that clears set_faulted,
      // behavior.md §7.1 row A) on its next step: fault only after that, as the scenario means.
      await s.checkpoint({ cp: "A" }, { withinMs: 1000, label: "CP back to A after the enable" });
      // 7
      m = s.mark();
      await s.cmdIs("set_faulted", {}, null);
      await s.cmdIs("reserve", { reservation_id: 5 }, false);
      await s.holds({ cp: "A", pwm: null }, 1000, 50);
      const errors = await s.errors();
      expect(errors.length).toBe(1);
      expect(errors[0]).toMatchObject({ type: "evse_manager/Inoperative", sub_type: "set_faulted", severity: "High" });
      expect(s.names().slice(m)).toEqual([]);
      // 8
      await s.cmdIs("enable_disable", EN("LocalAPI", 100), true);
      await s.until(async () => (await s.errors()).length === 0, 1500, "errors [] after step 8");
      await sleep(500);
      expect(s.names().slice(m)).toEqual([]);
      // 9
      m = s.mark();
      await s.cmdIs("reserve", { reservation_id: 5 }, true);
      await s.eventsSince(m, ["ReservationStart"]);
      // 10
      m = s.mark();
      await s.cmdIs("enable_disable", DIS("LocalAPI", 100), false);
      await s.eventsSince(m, ["Disabled", "ReservationEnd"]);
      // 11
      m = s.mark();
      await s.cmdIs("enable_disable", EN("LocalAPI", 100), true);
      await s.cmdIs("reserve", { reservation_id: 6 }, true);
      await s.cmdIs("set_faulted", {}, null);
      await s.eventsSince(m, ["Enabled", "ReservationStart", "ReservationEnd"]);

      await s.finish([
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
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S14 enable_disable arbitrates by priority across sources and connectors (D1, Q12, Q23)",
  () =>
    scenario(async ({ start }) => {
      const s = await start();
      type Step = [number, string, string, number, boolean, [string, string, string, number] | null];
      const steps: Step[] = [
        [0, "CSMS", "Disable", 100, false, ["Disabled", "CSMS", "Disable", 100]],
        [0, "LocalAPI", "Enable", 50, true, ["Enabled", "LocalAPI", "Enable", 50]],
        [0, "ServiceTechnician", "Disable", 50, false, ["Disabled", "ServiceTechnician", "Disable", 50]],
        [0, "LocalAPI", "Enable", 50, false, null],
        [0, "ServiceTechnician", "Unassigned", 50, true, ["Enabled", "LocalAPI", "Enable", 50]],
        [0, "LocalAPI", "Unassigned", 0, false, ["Disabled", "CSMS", "Disable", 100]],
        [0, "CSMS", "Enable", 100, true, ["Enabled", "CSMS", "Enable", 100]],
        [0, "CSMS", "Enable", 100, true, null],
        [1, "MobileApp", "Disable", 10, false, ["Disabled", "MobileApp", "Disable", 10]],
        [0, "MobileApp", "Enable", 10, false, null],
        [1, "MobileApp", "Enable", 10, true, ["Enabled", "MobileApp", "Enable", 10]],
        [2, "CSMS", "Disable", 0, true, null],
      ];
      for (const [i, [connector_id, src, state, prio, result, event]] of steps.entries()) {
        const step = i + 1;
        const m = s.mark();
        await s.cmdIs("enable_disable", { connector_id, cmd_source: source(src, state, prio) }, result);
        if (event) {
          const [e] = await s.eventsSince(m, [event[0]]);
          const got = ev(e!);
          expect({ step, source: got.source }).toEqual({ step, source: source(event[1], event[2], event[3]) });
          if (step <= 8) expect({ step, hasConnectorId: "connector_id" in got }).toEqual({ step, hasConnectorId: false });
          else expect({ step, connector_id: got.connector_id }).toEqual({ step, connector_id: 1 });
        }
        if (step === 1) await s.checkpoint({ cp: "F", pwm: null });
        if (step === 2) await s.checkpoint({ cp: "A" });
        await sleep(400);
        expect({ step, events: s.names().slice(m) }).toEqual({ step, events: event ? [event[0]] : [] });
      }
      await s.finish(["Disabled", "Enabled", "Disabled", "Enabled", "Disabled", "Enabled", "Disabled", "Enabled"]);
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S15 disabling while charging ends transaction and session; enabling with the car plugged opens a new session (D4, Q15, Q25)",
  () =>
    scenario(async ({ start }) => {
      const s = await start();
      await startAuth(s);
      await sleep(5000);

      let m = s.mark();
      await s.cmdIs("enable_disable", DIS("CSMS", 100), false);
      await s.waitEvent("ChargingFinished");
      const atFinished = await s.sim();
      expect({ relaysWhenChargingFinishedArrived: atFinished.relays_closed }).toEqual({
        relaysWhenChargingFinishedArrived: false,
      });
      await s.checkpoint({ cp: "F", pwm: null, relays: false });
      const tF = now();
      await s.eventsSince(m, ["StoppingCharging", "ChargingFinished", "TransactionFinished", "Disabled", "SessionFinished"]);
      await s.checkpoint({ locked: false }, { from: tF, withinMs: 5500, label: "unlocked 5 s after F" });

      m = s.mark();
      await s.cmdIs("pause_charging", {}, false);
      await s.cmdIs("stop_transaction", { request: { reason: "Local" } }, false);
      await s.cmdIs("authorize_response", AUTH_A, null);
      await s.noEventFor(1000, "commands while disabled");

      await s.cmdIs("enable_disable", EN("CSMS", 100), true);
      const [, started] = await s.eventsSince(m, ["Enabled", "SessionStarted", "AuthRequired"]);
      expect(ev(started!).session_started.reason).toBe("EVConnected");
      expect(ev(started!).uuid).not.toBe(s.all("SessionStarted")[0]!.uuid);
      await s.checkpoint({ cp: "B", pwm: null });

      m = s.mark();
      await s.cmdIs("authorize_response", AUTH_A, null);
      await s.waitEvent("ChargingStarted");
      await s.eventsSince(m, ["Authorized", "TransactionStarted", "PrepareCharging", "ChargingStarted"]);
      await s.checkpoint({ cp: "C", pwm: 53.33, relays: true });

      await endUnplug(s);
      await s.finish([
        ...START_EVENTS,
        "StoppingCharging",
        "ChargingFinished",
        "TransactionFinished",
        "Disabled",
        "SessionFinished",
        "Enabled",
        "SessionStarted",
        "AuthRequired",
        "Authorized",
        "TransactionStarted",
        "PrepareCharging",
        "ChargingStarted",
        ...END_EVENTS,
      ]);
      const tf = s.all("TransactionFinished")[0]!.transaction_finished;
      expect(tf.reason).toBe("Local");
      expect("id_tag" in tf).toBe(false);
      expect(tf.meter_value).toBeDefined();
      expect(s.all("Disabled")[0]!.source).toEqual(source("CSMS", "Disable", 100));
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S15 persistence check: a transaction ended by disable is not finished again after a restart (D4)",
  () =>
    scenario(async ({ start }) => {
      const s1 = await start();
      await startAuth(s1);
      await sleep(5000);
      const m = s1.mark();
      await s1.cmdIs("enable_disable", DIS("CSMS", 100), false);
      await s1.eventsSince(m, ["StoppingCharging", "ChargingFinished", "TransactionFinished", "Disabled", "SessionFinished"]);

      s1.signal("SIGTERM");
      await s1.exited;
      const s2 = await start({ dir: s1.dir });
      await sleep(5000);
      expect(s2.names()).not.toContain("TransactionFinished");
    }),
  SCENARIO_TIMEOUT,
);
