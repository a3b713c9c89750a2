// Acceptance scenarios S16–S20 (scenarios.md): energy limits and the duty table, the PP cable limit,
// set_faulted, and the car's error E.
import { expect, test } from "bun:test";
import {
  EN,
  END_EVENTS,
  PLUG_CHARGE,
  PLUG_ONLY,
  SCENARIO_TIMEOUT,
  START_EVENTS,
  endUnplug,
  now,
  scenario,
  sleep,
  startFree,
  type Server,
} from "./harness.ts";

const FREE = { disable_authentication: true };

/** `limits.max_current` reads `amps` within 1.5 s (±tolerance). */
async function maxCurrentIs(s: Server, amps: number, tolerance = 1e-9): Promise<void> {
  let last: unknown;
  await s
    .until(
      async () => {
        last = (await s.v("limits"))?.max_current;
        return typeof last === "number" && Math.abs(last - amps) <= tolerance;
      },
      1500,
      `limits.max_current ${amps}`,
    )
    .catch(() => {
      throw new Error(`limits.max_current expected ${amps}, got ${JSON.stringify(last)}`);
    });
}

/** Samples pwm_duty_percent in the background; Q8 says it never reads 100. */
function watchPwm(s: Server): { stop(): Promise<number[]> } {
  const seen: number[] = [];
  let on = true;
  const loop = (async () => {
    while (on && s.alive) {
      const p = (await s.sim().catch(() => undefined))?.pwm_duty_percent;
      if (typeof p === "number") seen.push(p);
      await sleep(50);
    }
  })();
  return {
    async stop() {
      on = false;
      await loop;
      return seen;
    },
  };
}

test.concurrent(
  "S16A a 0 A limit while charging gives WaitingForEnergy without stopping; 16 A restarts at 26.67 %",
  () =>
    scenario(async ({ start }) => {
      const s = await start({ config: FREE });
      await startFree(s);
      await sleep(2000);
      await s.checkpoint({ pwm: 53.33, relays: true });

      let m = s.mark();
      const uuid = await s.nodeUuid();
      const body0 = { uuid, valid_until: "2099-01-01T00:00:00Z", limits_root_side: { ac_max_current_A: 0 } };
      await s.enforce(body0);
      await s.until(async () => JSON.stringify(await s.v("enforced_limits")) === JSON.stringify(body0), 1500, "enforced_limits = body");
      expect(await s.v("enforced_limits")).toEqual(body0);
      await maxCurrentIs(s, 0);
      await s.eventsSince(m, ["WaitingForEnergy"]);
      await s.checkpoint({ cp: "B", pwm: null, relays: false });

      await s.noEventFor(3000, "after WaitingForEnergy");

      m = s.mark();
      await s.enf(16);
      await s.eventsSince(m, ["PrepareCharging", "ChargingStarted"]);
      await maxCurrentIs(s, 16);
      await s.checkpoint({ cp: "C", pwm: 26.67, relays: true });

      await endUnplug(s);
      await s.finish([
        ...START_EVENTS,
        "WaitingForEnergy",
        "PrepareCharging",
        "ChargingStarted",
        ...END_EVENTS,
      ]);
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S16B a 0 A limit before plug-in holds the authorized session in WaitingForEnergy until 10 A arrives",
  () =>
    scenario(async ({ start }) => {
      const s = await start({ config: FREE });
      await s.enf(0);
      await s.car(PLUG_CHARGE);
      await s.waitEvent("WaitingForEnergy");
      await s.checkpoint({ cp: "B", pwm: null });

      const m = s.mark();
      await s.enf(10);
      await s.eventsSince(m, ["PrepareCharging"]);
      await s.checkpoint({ pwm: 16.67 });
      await s.eventsSince(m, ["PrepareCharging", "ChargingStarted"]);

      await s.finish([
        "SessionStarted",
        "AuthRequired",
        "Authorized",
        "TransactionStarted",
        "PrepareCharging",
        "WaitingForEnergy",
        "PrepareCharging",
        "ChargingStarted",
      ]);
    }),
  SCENARIO_TIMEOUT,
);

/** Runs limit steps at least 1 s apart: limit → (limits.max_current, pwm within 1 s, events of the step). */
async function limitSteps(
  s: Server,
  steps: Array<{ amps: number; max?: number; pwm: number | null; events?: string[] }>,
): Promise<void> {
  for (const [i, step] of steps.entries()) {
    const t = now();
    const m = s.mark();
    await s.enf(step.amps);
    await s.checkpoint({ pwm: step.pwm }, { from: t, withinMs: 1000, label: `step ${i + 1} ENF(${step.amps})` });
    if (step.max !== undefined) await maxCurrentIs(s, step.max);
    if (step.events) await s.eventsSince(m, step.events, 1500);
    const rest = t + 1050 - now();
    if (rest > 0) await sleep(rest);
    expect({ step: i + 1, events: s.names().slice(m) }).toEqual({ step: i + 1, events: step.events ?? [] });
  }
}

test.concurrent(
  "S17A duty cycle follows the limit (6→10 %, 10→16.67 %, 16→26.67 %, 32→53.33 %), below 6 A no PWM and never 100 % (Q8)",
  () =>
    scenario(async ({ start }) => {
      const s = await start({ config: FREE });
      await s.car(PLUG_ONLY);
      const prepare = await s.waitEvent("PrepareCharging");
      await s.checkpoint({ pwm: 53.33 });
      const pwm = watchPwm(s);
      await limitSteps(s, [
        { amps: 6, max: 6, pwm: 10.0 },
        { amps: 10, max: 10, pwm: 16.67 },
        { amps: 16, max: 16, pwm: 26.67 },
        { amps: 32, max: 32, pwm: 53.33 },
        { amps: 5, max: 5, pwm: null, events: ["WaitingForEnergy"] },
        { amps: 5.95, max: 5.95, pwm: 10.0, events: ["PrepareCharging"] },
        { amps: 5.9, max: 5.9, pwm: null, events: ["WaitingForEnergy"] },
      ]);
      expect(now() - prepare.t).toBeLessThan(25_000);
      await s.finish([
        "SessionStarted",
        "AuthRequired",
        "Authorized",
        "TransactionStarted",
        "PrepareCharging",
        "WaitingForEnergy",
        "PrepareCharging",
        "WaitingForEnergy",
      ]);
      const seen = await pwm.stop();
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.filter((p) => p >= 99.95)).toEqual([]);
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S17B above 51 A the duty uses the (d − 64) × 2.5 band: 85 %, 89.20 %, 96 % at 80 A (D14)",
  () =>
    scenario(async ({ start }) => {
      const s = await start({ config: { ...FREE, max_current_import_A: 80, sim: { max_current_A_import: 80 } } });
      await s.car(PLUG_ONLY);
      const prepare = await s.waitEvent("PrepareCharging");
      await s.checkpoint({ pwm: 96.0 });
      await limitSteps(s, [
        { amps: 51, pwm: 85.0 },
        { amps: 51.5, pwm: 85.0 },
        { amps: 52.5, pwm: 85.0 },
        { amps: 63, pwm: 89.2 },
        { amps: 80, pwm: 96.0 },
        { amps: 100, pwm: 96.0 },
      ]);
      expect(now() - prepare.t).toBeLessThan(25_000);
      await s.finish(["SessionStarted", "AuthRequired", "Authorized", "TransactionStarted", "PrepareCharging"]);
    }),
  SCENARIO_TIMEOUT,
);

/** S18 with one PP resistor that lies in a band. */
async function ppScenario(s: Server, pwm: number, max: number, l1: [number, number]): Promise<void> {
  await maxCurrentIs(s, 32);
  await startFree(s);
  await s.checkpoint({ pwm });
  await maxCurrentIs(s, max);
  await s.until(
    async () => {
      const c = (await s.v("powermeter"))?.current_A?.L1;
      return typeof c === "number" && c >= l1[0] && c <= l1[1];
    },
    3000,
    `powermeter.current_A.L1 in [${l1[0]}, ${l1[1]}]`,
  );
  await endUnplug(s);
  await maxCurrentIs(s, 32);
  await s.finish([...START_EVENTS, ...END_EVENTS]);
}

const socket = (ohm: number) => ({ ...FREE, sim: { connector_type: "IEC62196Type2Socket", pp_resistor_ohm: ohm } });

test.concurrent(
  "S18 a 20 A cable (680 Ω) on a socket limits charging to 20 A (33.33 %) and the limit returns to 32 A after unplug",
  () => scenario(async ({ start }) => ppScenario(await start({ config: socket(680) }), 33.33, 20, [15, 17])),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S18 variant: a 13 A cable (1500 Ω) limits charging to 13 A (21.67 %)",
  () => scenario(async ({ start }) => ppScenario(await start({ config: socket(1500) }), 21.67, 13, [12, 14])),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S18 variant: a PP resistor outside every band (5000 Ω) never starts a transaction",
  () =>
    scenario(async ({ start }) => {
      const s = await start({ config: socket(5000) });
      await s.car(PLUG_CHARGE);
      await s.waitEvent("Authorized");
      const m = s.mark();
      await s.holds({ pwm: null }, 5000);
      expect(s.names().slice(m)).toEqual([]);
      await s.car("unplug", true);
      await s.eventsSince(m, ["SessionFinished"]);
      await s.finish(["SessionStarted", "AuthRequired", "Authorized", "SessionFinished"]);
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S19 set_faulted stops charging with an F pulse; only an enable of equal or higher priority or the unplug clears it (D12, D2)",
  () =>
    scenario(async ({ start }) => {
      const s = await start({ config: { ...FREE, state_F_after_fault_ms: 1500 } });
      await s.car("sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_fixed 16,3;sleep 36000");
      await s.waitEvent("ChargingStarted");
      await sleep(2000);
      let m = s.mark();
      await s.cmdIs("enable_disable", EN("CSMS", 100), true);
      await s.checkpoint({ cp: "C", pwm: 53.33, relays: true });
      expect(s.names().slice(m)).toEqual([]);

      const t2 = now();
      await s.cmdIs("set_faulted", {}, null);
      await s.checkpointWindow({ cp: "F", pwm: null, relays: false }, t2, 200, 1200);
      await s.until(async () => (await s.errors()).length > 0, Math.max(0, t2 + 1200 - now()), "an active error");
      const errors = await s.errors();
      expect(errors.length).toBe(1);
      expect(errors[0]).toMatchObject({
        type: "evse_manager/Inoperative",
        sub_type: "set_faulted",
        severity: "High",
        state: "Active",
      });

      const rest = t2 + 2500 - now();
      if (rest > 0) await sleep(rest);
      await s.checkpoint({ cp: "C", pwm: null, relays: false });

      await s.cmdIs("reserve", { reservation_id: 1 }, false);

      await s.cmdIs("enable_disable", EN("MobileApp", 200), true);
      await s.holds({ pwm: null }, 1000);
      expect((await s.errors()).map((e) => e.type)).toEqual(["evse_manager/Inoperative"]);

      await s.cmdIs("enable_disable", EN("LocalAPI", 100), true);
      await s.until(async () => (await s.errors()).length === 0, 1500, "errors cleared");
      await s.checkpoint({ cp: "C", pwm: 53.33, relays: true });

      const t7 = now();
      await s.cmdIs("set_faulted", {}, null);
      await sleep(Math.max(0, t7 + 2500 - now()));
      await s.checkpoint({ cp: "C", pwm: null, relays: false });

      m = s.mark();
      await s.car("unplug", true);
      await s.eventsSince(m, END_EVENTS);
      await s.until(async () => (await s.errors()).length === 0, 1500, "errors cleared on unplug");

      await s.finish([...START_EVENTS, ...END_EVENTS]);
      expect(s.last("TransactionFinished").transaction_finished.reason).toBe("EVDisconnected");
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S20 error E from the car ends transaction and session within 1.5 s without raising an error (Q14)",
  () =>
    scenario(async ({ start }) => {
      const s = await start({ config: FREE });
      await s.car("sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 5;error_e;sleep 36000");
      await s.waitEvent("ChargingStarted");
      const m = s.mark();
      let tE = 0;
      await s.until(
        async () => {
          if (s.mark() > m || (await s.sim()).cp_state === "E") {
            tE = now();
            return true;
          }
          return false;
        },
        10_000,
        "CP E",
      );
      const end = await s.eventsSince(m, END_EVENTS, 1500 + Math.max(0, tE - now()));
      expect(end.at(-1)!.t - tE).toBeLessThanOrEqual(1500);
      await s.checkpoint({ cp: "E", pwm: null, relays: false, locked: false });
      expect(await s.errors()).toEqual([]);
      await s.noEventFor(5000, "E does not start a session");

      await s.finish([...START_EVENTS, ...END_EVENTS]);
      expect(s.last("TransactionFinished").transaction_finished.reason).toBe("EVDisconnected");
    }),
  SCENARIO_TIMEOUT,
);
