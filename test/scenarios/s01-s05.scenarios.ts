// Acceptance scenarios S01–S05 (scenarios.md): boot, the three ways into a charge, EV pause/resume.
import { expect, test } from "bun:test";
import * as v from "valibot";
import { HardwareCapabilitiesSchema } from "../../core/types/index.ts";
import {
  AUTH_A,
  END_EVENTS,
  FREE_TOKEN,
  PLUG_CHARGE,
  SCENARIO_TIMEOUT,
  START_EVENTS,
  TOKEN_A,
  endUnplug,
  energyOf,
  scenario,
  sleep,
  startFree,
} from "./harness.ts";

const FREE = { disable_authentication: true };

test.concurrent(
  "S01 boot with defaults announces Enabled once and publishes the default variables",
  () =>
    scenario(async ({ start }) => {
      const s = await start();
      await sleep(3000);
      const evse = await s.cmd("get_evse", {});

      const events = s.events();
      expect(events.map((e) => e.event)).toEqual(["Enabled"]);
      const enabled = events[0]!;
      expect(enabled.uuid).toBe("");
      expect(enabled.source).toEqual({ enable_source: "Unspecified", enable_state: "Enable", enable_priority: 10000 });
      expect("connector_id" in enabled).toBe(false);

      const vars = await s.vars();
      expect(Object.keys(vars).sort()).toEqual(
        [
          "session_event",
          "limits",
          "ev_info",
          "car_manufacturer",
          "telemetry",
          "powermeter",
          "powermeter_public_key_ocmf",
          "evse_id",
          "hw_capabilities",
          "iso15118_certificate_request",
          "enforced_limits",
          "waiting_for_external_ready",
          "ready",
          "selected_protocol",
        ].sort(),
      );
      expect(vars.ready).toBe(true);
      expect(vars.waiting_for_external_ready).toBe(false);
      expect(vars.evse_id).toBe("DE*PNX*E1234567*1");
      expect(Object.keys(vars.limits).sort()).toEqual(["max_current", "nr_of_phases_available", "uuid"]);
      expect(typeof vars.limits.uuid === "string" && vars.limits.uuid.length > 0).toBe(true);
      expect(vars.limits.max_current).toBe(32);
      expect(vars.limits.nr_of_phases_available).toBe(3);
      expect(vars.selected_protocol).toBe("Unknown");
      expect(vars.hw_capabilities).toEqual({
        max_current_A_import: 32,
        min_current_A_import: 6,
        max_phase_count_import: 3,
        min_phase_count_import: 1,
        max_current_A_export: 16,
        min_current_A_export: 0,
        max_phase_count_export: 3,
        min_phase_count_export: 1,
        supports_changing_phases_during_charging: true,
        connector_type: "IEC62196Type2Cable",
      });
      expect(v.safeParse(HardwareCapabilitiesSchema, vars.hw_capabilities).success).toBe(true);
      expect(vars.ev_info).toBeNull();
      expect(vars.car_manufacturer).toBeNull();
      expect(vars.iso15118_certificate_request).toBeNull();
      expect(vars.enforced_limits).toBeNull();
      expect(s.pubs("limits").length).toBe(1);

      expect(evse).toEqual({ id: 1, connectors: [{ id: 1, type: "Unknown" }] });
      expect(await s.errors()).toEqual([]);
      await s.checkpoint({ cp: "A", pwm: null, relays: false, locked: false });
      await s.finish([]);
      expect(s.names()).not.toContain("Deauthorized");
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S02 plug in, then authorize: charges at 53.33 % and unplugging ends transaction and session",
  () =>
    scenario(async ({ start }) => {
      const s = await start();
      await s.car(PLUG_CHARGE);
      await s.waitEvent("AuthRequired");
      await s.checkpoint({ cp: "B", pwm: null, relays: false, locked: true });

      await s.cmdIs("authorize_response", AUTH_A, null);
      const prepare = await s.waitEvent("PrepareCharging");
      await s.checkpoint({ pwm: 53.33 }, { from: prepare.t, withinMs: 1000 });

      await s.waitEvent("ChargingStarted");
      await sleep(2000);
      await s.checkpoint({ cp: "C", pwm: 53.33, relays: true, locked: true });
      const pm = await s.v("powermeter");
      expect(pm.current_A.L1).toBeGreaterThanOrEqual(15);
      expect(pm.current_A.L1).toBeLessThanOrEqual(17);

      await sleep(10_000);
      await endUnplug(s);
      await s.finish([...START_EVENTS, ...END_EVENTS]);

      const started = s.last("SessionStarted").session_started;
      expect(started.reason).toBe("EVConnected");
      expect("id_tag" in started).toBe(false);
      expect("reservation_id" in started).toBe(false);
      expect(s.last("Authorized").authorization_event?.meter_value).toBeDefined();
      expect(s.last("TransactionStarted").transaction_started.id_tag).toEqual(TOKEN_A);
      expect(s.last("ChargingStarted").charging_state_changed_event?.meter_value).toBeDefined();
      const finished = s.last("TransactionFinished").transaction_finished;
      expect(finished.reason).toBe("EVDisconnected");
      expect("id_tag" in finished).toBe(false);
      expect(energyOf(s.last("TransactionFinished"), "transaction_finished")).toBeGreaterThanOrEqual(
        energyOf(s.last("TransactionStarted"), "transaction_started") + 10,
      );
      expect(s.last("SessionFinished").session_finished?.meter_value).toBeDefined();

      // Q21: published on change only: "Unknown" at boot, "IEC61851-1" after SessionStarted, "Unknown" after TransactionFinished.
      const sessionStartedId = s.sessionMsgs().find((m) => (m.data as { event: string }).event === "SessionStarted")!.id;
      const txFinishedId = s.sessionMsgs().find((m) => (m.data as { event: string }).event === "TransactionFinished")!.id;
      const protocol = s.pubs("selected_protocol");
      expect(protocol.map((m) => m.data)).toEqual(["Unknown", "IEC61851-1", "Unknown"]);
      expect(protocol[1]!.id).toBeGreaterThan(sessionStartedId);
      expect(protocol[1]!.id).toBeLessThan(txFinishedId);
      expect(protocol[2]!.id).toBeGreaterThan(txFinishedId);
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S03 authorize first, then plug in: one session with reason Authorized; a second authorization while charging is ignored",
  () =>
    scenario(async ({ start }) => {
      const s = await start();
      let m = s.mark();
      await s.cmdIs("authorize_response", AUTH_A, null);
      await s.eventsSince(m, ["SessionStarted", "Authorized"]);
      await s.checkpoint({ cp: "A", pwm: null, relays: false });

      await s.car(PLUG_CHARGE);
      await s.waitEvent("ChargingStarted");
      await s.checkpoint({ cp: "C", pwm: 53.33, relays: true });

      m = s.mark();
      await s.cmdIs("authorize_response", AUTH_A, null);
      await s.noEventFor(1000, "second authorize_response while charging (Q16)");
      expect(s.mark()).toBe(m);

      await endUnplug(s);
      await s.finish([
        "SessionStarted",
        "Authorized",
        "AuthRequired",
        "TransactionStarted",
        "PrepareCharging",
        "ChargingStarted",
        ...END_EVENTS,
      ]);
      const started = s.last("SessionStarted").session_started;
      expect(started.reason).toBe("Authorized");
      expect(started.id_tag).toEqual(TOKEN_A);
      expect(s.last("TransactionStarted").transaction_started.id_tag).toEqual(TOKEN_A);
      const uuids = new Set(s.events().slice(1).map((e) => e.uuid));
      expect(uuids.size).toBe(1);
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S04 free charging twice: FREESERVICE token, a new uuid for the second session",
  () =>
    scenario(async ({ start }) => {
      const s = await start({ config: FREE });
      await startFree(s);
      await s.checkpoint({ cp: "C", pwm: 53.33, relays: true });
      await endUnplug(s);

      await s.car(PLUG_CHARGE, true);
      await s.waitEvent("ChargingStarted");
      const sessions = s.all("SessionStarted");
      expect(sessions.length).toBe(2);
      expect(sessions[1]!.uuid).not.toBe(sessions[0]!.uuid);
      await endUnplug(s);

      const one = [...START_EVENTS, ...END_EVENTS];
      await s.finish([...one, ...one]);
      for (const e of s.all("TransactionStarted")) expect(e.transaction_started.id_tag).toEqual(FREE_TOKEN);
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S05 an EV pause keeps PWM on, cannot be resumed by the EVSE, and the EV resumes with ChargingResumed",
  () =>
    scenario(async ({ start }) => {
      const s = await start({ config: FREE });
      await s.car(
        "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 5;pause;sleep 5;draw_power_regulated 16,3;sleep 5;unplug;sleep 36000",
      );
      await s.waitEvent("ChargingPausedEV");
      await s.checkpoint({ cp: "B", pwm: 53.33, relays: false, locked: true });

      await s.cmdIs("resume_charging", {}, false);

      await s.waitEvent("ChargingResumed");
      await s.checkpoint({ cp: "C", pwm: 53.33, relays: true });

      await s.waitEvent("SessionFinished");
      await s.checkpoint({ cp: "A", pwm: null, relays: false, locked: false });

      await s.finish([
        ...START_EVENTS,
        "ChargingPausedEV",
        "ChargingResumed",
        ...END_EVENTS,
      ]);
      expect(s.last("ChargingPausedEV").charging_state_changed_event?.meter_value).toBeDefined();
      expect(s.last("ChargingResumed").charging_state_changed_event?.meter_value).toBeDefined();
    }),
  SCENARIO_TIMEOUT,
);
