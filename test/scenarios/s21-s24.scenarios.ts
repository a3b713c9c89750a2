// Acceptance scenarios S21–S24 (scenarios.md): diode fault, residual current, external ready gating, force_unlock.
import { expect, test } from "bun:test";
import {
  AUTH_A,
  END_EVENTS,
  PLUG_ONLY,
  SCENARIO_TIMEOUT,
  START_EVENTS,
  endUnplug,
  now,
  scenario,
  sleep,
  type Server,
} from "./harness.ts";

const FREE = { disable_authentication: true };

function byType(errors: any[], type: string): any {
  const e = errors.find((x) => x?.type === type);
  if (!e) throw new Error(`no active error ${type}; errors: ${JSON.stringify(errors)}`);
  return e;
}

test.concurrent(
  "S21 a diode failure raises DiodeFault and Inoperative, stops PWM without session events, and clears on unplug",
  () =>
    scenario(async ({ start }) => {
      const s = await start({ config: FREE });
      await s.car("sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 32,3;sleep 5;diode_fail;sleep 36000");
      await s.waitEvent("ChargingStarted");
      const m = s.mark();
      await sleep(7000);
      const errors = await s.errors();
      expect(byType(errors, "evse_board_support/DiodeFault").severity).toBe("High");
      expect(byType(errors, "evse_manager/Inoperative")).toMatchObject({ sub_type: "", message: "evse_board_support/DiodeFault" });
      await s.checkpoint({ cp: "C", pwm: null, relays: false });

      await s.cmdIs("reserve", { reservation_id: 3 }, false);
      await sleep(3000);
      expect(s.names().slice(m)).toEqual([]);

      await s.car("unplug", true);
      await s.eventsSince(m, END_EVENTS);
      await s.until(async () => (await s.errors()).length === 0, 1500, "errors cleared on unplug");

      await s.finish([...START_EVENTS, ...END_EVENTS]);
    }),
  SCENARIO_TIMEOUT,
);

/** Polls /sim until `pred` holds; returns the time it was first seen. */
async function simUntil(s: Server, pred: (sim: Awaited<ReturnType<Server["sim"]>>) => boolean, timeoutMs: number, what: string): Promise<number> {
  let at = 0;
  await s.until(
    async () => {
      if (pred(await s.sim())) {
        at = now();
        return true;
      }
      return false;
    },
    timeoutMs,
    what,
  );
  return at;
}

test.concurrent(
  "S22 residual current above 5 mA trips (ac_rcd/DC) without session events and charging resumes when it falls (D1)",
  () =>
    scenario(async ({ start }) => {
      const s = await start({ config: FREE });
      await s.car(
        "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_fixed 16,3;sleep 5;rcd_current 10.5;sleep 6;rcd_current 0.2;sleep 36000",
      );
      await s.waitEvent("ChargingStarted");
      const m = s.mark();
      await s.checkpoint({ pwm: 53.33, relays: true });

      const tTrip = await simUntil(s, (x) => x.rcd_current_mA > 5, 10_000, "rcd_current_mA above 5");
      await s.until(
        async () => {
          const errs = await s.errors();
          return errs.some((e) => e.type === "ac_rcd/DC") && errs.some((e) => e.type === "evse_manager/Inoperative");
        },
        Math.max(0, tTrip + 1500 - now()),
        "ac_rcd/DC and evse_manager/Inoperative",
      );
      const errors = await s.errors();
      expect(byType(errors, "ac_rcd/DC").severity).toBe("High");
      expect(byType(errors, "evse_manager/Inoperative").message).toBe("ac_rcd/DC");
      const sim = await s.checkpoint({ cp: "C", pwm: null, relays: false }, { from: tTrip });
      expect(Math.abs(sim.rcd_current_mA - 10.5)).toBeLessThanOrEqual(0.5);

      await s.cmdIs("reserve", { reservation_id: 2 }, false);

      const tBack = await simUntil(s, (x) => x.rcd_current_mA < 5, 10_000, "rcd_current_mA back below 5");
      await s.until(async () => (await s.errors()).length === 0, Math.max(0, tBack + 1500 - now()), "errors cleared");
      await s.checkpoint({ cp: "C", pwm: 53.33, relays: true }, { from: tBack });
      expect(s.names().slice(m)).toEqual([]);

      await endUnplug(s);
      await s.finish([...START_EVENTS, ...END_EVENTS]);
    }),
  SCENARIO_TIMEOUT,
);

const GATE = ["waiting_for_external_ready", "ready", "session_event"];

test.concurrent(
  "S23A with external_ready_to_start_charging the kernel waits, ignores the plug-in, and starts on the command (D10)",
  () =>
    scenario(async ({ start }) => {
      const s = await start({ config: { external_ready_to_start_charging: true }, waitReady: false });
      await sleep(3000);
      expect(s.names()).toEqual([]);
      expect(await s.v("waiting_for_external_ready")).toBe(true);
      expect(await s.v("ready")).toBeNull();

      const enforcedBefore = s.pubs("enforced_limits").length;
      await s.enf(16);
      await s.until(() => s.pubs("enforced_limits").length > enforcedBefore, 1500, "enforced_limits published");

      await s.car(PLUG_ONLY);
      await sleep(2000);
      expect(s.names()).toEqual([]);

      const mark = s.lastId();
      await s.cmdIs("external_ready_to_start_charging", {}, true);
      await s.waitEvent("AuthRequired");
      const gate = s.messages.filter((x) => x.id > mark && GATE.includes(x.event));
      const order = gate.map((x) => (x.event === "session_event" ? (x.data as { event: string }).event : `${x.event}=${JSON.stringify(x.data)}`));
      expect(order.slice(0, 3)).toEqual(["waiting_for_external_ready=false", "Enabled", "ready=true"]);
      expect(order.slice(3)).toEqual(["SessionStarted", "AuthRequired"]);
      expect(s.last("SessionStarted").session_started.reason).toBe("EVConnected");
      expect((await s.v("limits")).max_current).toBe(16);

      const mark2 = s.lastId();
      await s.cmdIs("external_ready_to_start_charging", {}, false);
      await sleep(2000);
      expect(s.messages.filter((x) => x.id > mark2 && GATE.includes(x.event)).map((x) => x.event)).toEqual([]);

      await s.finish(["Enabled", "SessionStarted", "AuthRequired"], { fromStart: true });
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S23B without the option waiting_for_external_ready is false from boot and the command returns false and publishes nothing",
  () =>
    scenario(async ({ start }) => {
      const s = await start();
      expect(await s.v("waiting_for_external_ready")).toBe(false);
      expect(s.pubs("waiting_for_external_ready").map((x) => x.data)).toEqual([false]);
      const mark = s.lastId();
      await s.cmdIs("external_ready_to_start_charging", {}, false);
      await sleep(2000);
      expect(s.messages.filter((x) => x.id > mark && GATE.includes(x.event)).map((x) => x.event)).toEqual([]);
      await s.finish([]);
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S24 force_unlock unlocks in B, never while relays are closed, ignores other connectors and never ends the transaction (Q23)",
  () =>
    scenario(async ({ start }) => {
      const s = await start();
      await s.car(PLUG_ONLY);
      await s.waitEvent("AuthRequired");
      await s.checkpoint({ locked: true });

      let m = s.mark();
      await s.cmdIs("force_unlock", { connector_id: 1 }, true);
      await s.checkpoint({ locked: false });

      await s.cmdIs("force_unlock", { connector_id: 2 }, false);
      await s.holds({ locked: false }, 1000);
      expect(s.names().slice(m)).toEqual([]);

      await s.cmdIs("authorize_response", AUTH_A, null);
      await s.waitEvent("PrepareCharging");
      await s.checkpoint({ pwm: 53.33, locked: false });

      await s.car("draw_power_regulated 16,3;sleep 36000", true);
      await s.waitEvent("ChargingStarted");
      await s.checkpoint({ cp: "C", relays: true, locked: true });

      m = s.mark();
      await s.cmdIs("force_unlock", { connector_id: 1 }, true);
      await s.holds({ relays: true, locked: true }, 1500);
      expect(s.names().slice(m)).toEqual([]);

      await s.cmdIs("stop_transaction", { request: { reason: "Local" } }, true);
      await s.eventsSince(m, ["StoppingCharging", "ChargingFinished", "TransactionFinished"]);
      await s.checkpoint({ cp: "B", relays: false, locked: false });

      m = s.mark();
      await s.car("unplug", true);
      await s.eventsSince(m, ["SessionFinished"]);
      await s.checkpoint({ locked: false });

      await s.finish([...START_EVENTS, ...END_EVENTS]);
    }),
  SCENARIO_TIMEOUT,
);
