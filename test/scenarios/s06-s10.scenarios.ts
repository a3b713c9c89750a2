// Acceptance scenarios S06–S10 (scenarios.md): EVSE pause/resume, D11, stop_transaction, unplugging,
// withdraw_authorization.
import { expect, test } from "bun:test";
import {
  AUTH_A,
  END_EVENTS,
  PLUG_ONLY,
  SCENARIO_TIMEOUT,
  START_EVENTS,
  TOKEN_A,
  endUnplug,
  energyOf,
  now,
  scenario,
  sleep,
  startAuth,
  startFree,
} from "./harness.ts";

const FREE = { disable_authentication: true };

test.concurrent(
  "S06 pause_charging pauses once (ChargingPausedEVSE) and resume_charging restarts with PrepareCharging, ChargingStarted",
  () =>
    scenario(async ({ start }) => {
      const s = await start({ config: FREE });
      await startFree(s);
      await sleep(2000);

      let m = s.mark();
      await s.cmdIs("pause_charging", {}, true);
      await s.eventsSince(m, ["ChargingPausedEVSE"]);
      await s.checkpoint({ cp: "B", pwm: null, relays: false, locked: true });

      m = s.mark();
      await s.cmdIs("pause_charging", {}, true);
      await s.noEventFor(1000, "second pause_charging (Q7)");

      await s.cmdIs("resume_charging", {}, true);
      await s.eventsSince(m, ["PrepareCharging", "ChargingStarted"]);
      await s.checkpoint({ cp: "C", pwm: 53.33, relays: true });

      m = s.mark();
      await s.cmdIs("resume_charging", {}, false);
      await s.noEventFor(1000, "resume_charging while charging");

      await endUnplug(s);
      await s.finish([
        ...START_EVENTS,
        "ChargingPausedEVSE",
        "PrepareCharging",
        "ChargingStarted",
        ...END_EVENTS,
      ]);
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S07 a car that stays in C during an EVSE pause is resumed without a B/C toggle (D11)",
  () =>
    scenario(async ({ start }) => {
      const s = await start({ config: FREE });
      await startFree(s);

      let m = s.mark();
      await s.cmdIs("pause_charging", {}, true);
      await s.eventsSince(m, ["ChargingPausedEVSE"]);
      await s.checkpoint({ cp: "B" });

      m = s.mark();
      await s.car("draw_power_fixed 16,3;sleep 36000", true);
      await sleep(2000);
      await s.checkpoint({ cp: "C", pwm: null, relays: false });
      expect(s.names().slice(m)).toEqual([]);

      await s.cmdIs("resume_charging", {}, true);
      // The car never leaves C while the EVSE resumes.
      const deadline = now() + 1500;
      for (;;) {
        const sim = await s.sim();
        expect(sim.cp_state).toBe("C");
        if (sim.pwm_duty_percent !== null && Math.abs(sim.pwm_duty_percent - 53.33) <= 0.05 && sim.relays_closed) break;
        if (now() > deadline) throw new Error(`resume did not reach {C, 53.33, relays true}: ${JSON.stringify(sim)}`);
        await sleep(100);
      }
      await s.eventsSince(m, ["PrepareCharging", "ChargingStarted"]);

      await endUnplug(s);
      await s.finish([
        ...START_EVENTS,
        "ChargingPausedEVSE",
        "PrepareCharging",
        "ChargingStarted",
        ...END_EVENTS,
      ]);
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S08 stop_transaction ends the transaction with its reason and token; later commands are refused until unplug",
  () =>
    scenario(async ({ start }) => {
      const s = await start();
      await startAuth(s);
      await sleep(5000);

      let m = s.mark();
      const request = { reason: "Local", id_tag: TOKEN_A };
      await s.cmdIs("stop_transaction", { request }, true);
      await s.waitEvent("ChargingFinished", 10_000);
      const atFinished = await s.sim();
      expect({ relaysWhenChargingFinishedArrived: atFinished.relays_closed }).toEqual({
        relaysWhenChargingFinishedArrived: false,
      });
      await s.eventsSince(m, ["StoppingCharging", "ChargingFinished", "TransactionFinished"]);
      await s.checkpoint({ cp: "B", pwm: null, relays: false, locked: true });

      m = s.mark();
      await s.cmdIs("stop_transaction", { request: { reason: "Remote" } }, false);
      await s.cmdIs("pause_charging", {}, false);
      await s.cmdIs("resume_charging", {}, false);
      await s.cmdIs("authorize_response", AUTH_A, null);
      await s.noEventFor(3000, "commands after stop_transaction");
      expect(await s.v("selected_protocol")).toBe("Unknown");

      m = s.mark();
      const t = now();
      await s.car("unplug", true);
      await s.eventsSince(m, ["SessionFinished"]);
      await s.checkpoint({ cp: "A", locked: false }, { from: t });

      await s.finish([...START_EVENTS, ...END_EVENTS]);
      const tf = s.last("TransactionFinished");
      expect(tf.transaction_finished.reason).toBe("Local");
      expect(tf.transaction_finished.id_tag).toEqual(TOKEN_A);
      expect(energyOf(tf, "transaction_finished")).toBeGreaterThan(energyOf(s.last("TransactionStarted"), "transaction_started"));
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S09A unplugging while charging gives the four end events at once and no Deauthorized",
  () =>
    scenario(async ({ start }) => {
      const s = await start({ config: FREE });
      await startFree(s);
      await sleep(3000);
      await s.checkpoint({ cp: "C", relays: true });

      const m = s.mark();
      const t = now();
      await s.car("unplug", true);
      await s.eventsSince(m, END_EVENTS, 1000);
      expect(s.sessionMsgs().at(-1)!.t - t).toBeLessThanOrEqual(1000);
      await s.checkpoint({ cp: "A", pwm: null, relays: false, locked: false }, { from: t });

      await s.noEventFor(3000, "after unplug (Q1)");
      expect(await s.errors()).toEqual([]);

      await s.finish([...START_EVENTS, ...END_EVENTS]);
      expect(s.last("TransactionFinished").transaction_finished.reason).toBe("EVDisconnected");
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S09B unplugging before authorization ends the session without transaction events (Q2)",
  () =>
    scenario(async ({ start }) => {
      const s = await start();
      await s.car(PLUG_ONLY);
      await s.waitEvent("AuthRequired");
      await s.checkpoint({ cp: "B", pwm: null });

      const m = s.mark();
      await s.car("unplug", true);
      await s.eventsSince(m, ["SessionFinished"]);

      await s.finish(["SessionStarted", "AuthRequired", "SessionFinished"]);
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S10 withdraw_authorization only emits Deauthorized when it removes an authorization (D9)",
  () =>
    scenario(async ({ start }) => {
      const s = await start();
      await s.cmdIs("withdraw_authorization", {}, null);
      await s.noEventFor(2000, "withdraw_authorization without a session");

      let m = s.mark();
      await s.cmdIs("authorize_response", AUTH_A, null);
      const [started] = await s.eventsSince(m, ["SessionStarted", "Authorized"]);
      const first = started!.data as { uuid: string; session_started: { reason: string } };
      expect(first.session_started.reason).toBe("Authorized");

      m = s.mark();
      await s.cmdIs("withdraw_authorization", {}, null);
      const ended = await s.eventsSince(m, ["Deauthorized", "SessionFinished"]);
      for (const e of ended) expect((e.data as { uuid: string }).uuid).toBe(first.uuid);

      m = s.mark();
      await s.car(PLUG_ONLY);
      const [second] = await s.eventsSince(m, ["SessionStarted", "AuthRequired"]);
      const secondEv = second!.data as { uuid: string; session_started: { reason: string } };
      expect(secondEv.session_started.reason).toBe("EVConnected");
      expect(secondEv.uuid).not.toBe(first.uuid);
      await s.holds({ pwm: null }, 3000);

      m = s.mark();
      await s.cmdIs("withdraw_authorization", {}, null);
      await s.eventsSince(m, ["PluginTimeout"]);
      await s.noEventFor(1000, "after PluginTimeout");

      m = s.mark();
      await s.cmdIs("authorize_response", AUTH_A, null);
      const [, , prepare] = await s.eventsSince(m, ["Authorized", "TransactionStarted", "PrepareCharging"]);
      await s.checkpoint({ pwm: 53.33 });

      m = s.mark();
      await s.cmdIs("withdraw_authorization", {}, null);
      await s.holds({ pwm: 53.33 }, 1500);
      expect(s.names().slice(m)).toEqual([]);

      await s.car("unplug", true);
      await s.eventsSince(m, END_EVENTS);
      expect(now() - prepare!.t).toBeLessThan(30_000);

      await s.finish([
        "SessionStarted",
        "Authorized",
        "Deauthorized",
        "SessionFinished",
        "SessionStarted",
        "AuthRequired",
        "PluginTimeout",
        "Authorized",
        "TransactionStarted",
        "PrepareCharging",
        ...END_EVENTS,
      ]);
    }),
  SCENARIO_TIMEOUT,
);
