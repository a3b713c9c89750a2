import { describe, expect, test } from "bun:test";
import {
  Car,
  CarBusyError,
  type CarInputs,
  type CarOutputs,
  CarScriptError,
  carSeesValidPwm,
  sleepTicks,
} from "../sim/car/index.ts";

const NO_PWM = 100;

function inputs(pwm_duty_percent: number, evse_state_F = false): CarInputs {
  return { pwm_duty_percent, pp_ampacity: "A_32", rcd_current_mA: 0.1, evse_state_F };
}

/** Steps the car `n` ticks at a fixed duty and returns the outputs of the last one. */
function run(car: Car, n: number, duty = NO_PWM): CarOutputs {
  let out = car.outputs();
  for (let i = 0; i < n; i++) out = car.step(inputs(duty));
  return out;
}

/** Number of ticks (1-based) until `done` holds after a step; fails after `limit`. */
function ticksUntil(car: Car, done: (c: Car) => boolean, duty = NO_PWM, limit = 1000): number {
  for (let i = 1; i <= limit; i++) {
    car.step(inputs(duty));
    if (done(car)) return i;
  }
  throw new Error("condition never held");
}

describe("car start-up", () => {
  test("a new car is unplugged with CP A, no demand and no faults", () => {
    const car = new Car();
    expect(car.status()).toEqual({ running: false, script: null, state: "UNPLUGGED" });
    expect(car.outputs()).toEqual({
      cp: "A",
      diode_fail: false,
      ev_max_current_A: 0,
      three_phases: true,
      rcd_current_mA: 0.1,
      allow_power_on: false,
    });
  });

  test("a car restored as plugged in shows CP B with no script running", () => {
    const car = new Car({ initial: "PLUGGED_IN" });
    expect(car.status()).toEqual({ running: false, script: null, state: "PLUGGED_IN" });
    expect(car.outputs().cp).toBe("B");
    expect(run(car, 3).cp).toBe("B");
  });

  test("without a script the car does nothing however long it is stepped", () => {
    const car = new Car();
    expect(run(car, 20, 50)).toEqual(new Car().outputs());
  });
});

describe("sleep timing", () => {
  test("sleep s occupies floor(s*4)+1 ticks counting its first, so the next command runs on that tick", () => {
    for (const [seconds, ticks] of [
      [1, 5],
      [0.3, 2],
      [0.1, 1],
      [0, 1],
      [2.5, 11],
      [30, 121],
    ] as const) {
      expect(sleepTicks(seconds)).toBe(ticks);
      const car = new Car({ initial: "PLUGGED_IN" });
      car.post(`pause;sleep ${seconds};error_e`, true);
      expect(ticksUntil(car, (c) => c.outputs().cp === "E")).toBe(ticks);
    }
  });

  test("two sleeps in a row add their waits (the second starts on the tick the first ends)", () => {
    const car = new Car();
    car.post("sleep 1;sleep 1;pause", false);
    // first ends on tick 5 and the second's first call is tick 5 too: 5 + 5 - 1
    expect(ticksUntil(car, (c) => c.status().state === "PLUGGED_IN")).toBe(9);
  });

  test("a long sleep keeps the script running until it has elapsed", () => {
    const car = new Car();
    car.post("sleep 30", false);
    run(car, 120);
    expect(car.status().running).toBe(true);
    run(car, 1);
    expect(car.status()).toEqual({ running: false, script: null, state: "UNPLUGGED" });
  });
});

describe("immediate and blocking commands", () => {
  test("immediate commands all run in the same tick and the state machine sees the last state", () => {
    const car = new Car();
    car.post("pause;draw_power_fixed 10 1;rcd_current 3;set_soc 20;unplug;pause", false);
    const out = car.step(inputs(NO_PWM));
    expect(car.status()).toEqual({ running: false, script: null, state: "PLUGGED_IN" });
    expect(out.cp).toBe("B");
    expect(out.ev_max_current_A).toBe(10);
    expect(out.three_phases).toBe(false);
    expect(out.rcd_current_mA).toBe(3);
  });

  test("iec_wait_pwr_ready plugs in (CP B) and blocks until a basic-charging PWM is present", () => {
    const car = new Car();
    car.post("iec_wait_pwr_ready;draw_power_regulated 16,3", false);
    let out = run(car, 5, NO_PWM);
    expect(out.cp).toBe("B");
    expect(out.allow_power_on).toBe(false);
    expect(car.status().state).toBe("PLUGGED_IN");
    expect(car.status().running).toBe(true);
    out = run(car, 3, 5); // the HLC 5 % PWM is not basic charging
    expect(out.cp).toBe("B");
    expect(car.status().running).toBe(true);
    out = car.step(inputs(26.7)); // 16 A PWM: the wait passes and the draw runs in the same tick
    expect(out.cp).toBe("C");
    expect(car.status().state).toBe("CHARGING_REGULATED");
    expect(car.status().running).toBe(false);
  });

  test("the car's valid-PWM window is 7 % < duty <= 97 %", () => {
    expect(carSeesValidPwm(7)).toBe(false);
    expect(carSeesValidPwm(7.01)).toBe(true);
    expect(carSeesValidPwm(53.3)).toBe(true);
    expect(carSeesValidPwm(97)).toBe(true);
    expect(carSeesValidPwm(97.1)).toBe(false);
    expect(carSeesValidPwm(100)).toBe(false);
    expect(carSeesValidPwm(0)).toBe(false);
  });

  test("iec_wait_pwr_ready passes at exactly 97 % (the kernel's duty above 80 A)", () => {
    const car = new Car();
    car.post("iec_wait_pwr_ready", false);
    car.step(inputs(97));
    expect(car.status().running).toBe(false);
  });

  test("draw_power_regulated sets the EV maximum current and the phase count", () => {
    const three = new Car();
    three.post("draw_power_regulated 16,3", false);
    expect(three.step(inputs(50))).toMatchObject({ ev_max_current_A: 16, three_phases: true });
    const one = new Car();
    one.post("draw_power_regulated 32,1", false);
    expect(one.step(inputs(50))).toMatchObject({ ev_max_current_A: 32, three_phases: false });
  });

  test("rcd_current sets the residual current the car leaks", () => {
    const car = new Car();
    car.post("rcd_current 10.5;sleep 1;rcd_current 0.2", false);
    expect(car.step(inputs(NO_PWM)).rcd_current_mA).toBe(10.5);
    expect(run(car, 4).rcd_current_mA).toBe(0.2);
  });

  test("set_soc is accepted and changes nothing visible", () => {
    const car = new Car({ initial: "PLUGGED_IN" });
    const before = car.outputs();
    car.post("set_soc 80", true);
    expect(car.step(inputs(NO_PWM))).toEqual(before);
    expect(car.status().state).toBe("PLUGGED_IN");
  });
});

describe("car states", () => {
  test("regulated charging follows the PWM: C while valid, B during an EVSE pause, C again when it returns", () => {
    const car = new Car();
    car.post("iec_wait_pwr_ready;draw_power_regulated 16,3;sleep 36000", false);
    expect(car.step(inputs(26.7))).toMatchObject({ cp: "C", allow_power_on: true });
    expect(car.step(inputs(NO_PWM))).toMatchObject({ cp: "B", allow_power_on: false });
    expect(car.step(inputs(NO_PWM, true))).toMatchObject({ cp: "B", allow_power_on: false });
    expect(car.step(inputs(5))).toMatchObject({ cp: "B", allow_power_on: false });
    expect(car.step(inputs(97))).toMatchObject({ cp: "C", allow_power_on: true });
    expect(car.status().state).toBe("CHARGING_REGULATED");
  });

  test("regulated charging entered without PWM waits in B and goes to C when PWM appears", () => {
    const car = new Car();
    car.post("draw_power_regulated 16,3", false);
    expect(car.step(inputs(NO_PWM)).cp).toBe("B");
    expect(car.status().running).toBe(false);
    expect(car.step(inputs(26.7)).cp).toBe("C");
  });

  test("fixed charging stays in C whatever the PWM does", () => {
    const car = new Car();
    car.post("draw_power_fixed 16,3", false);
    expect(car.step(inputs(NO_PWM))).toMatchObject({ cp: "C", allow_power_on: true });
    expect(run(car, 30, NO_PWM)).toMatchObject({ cp: "C", allow_power_on: true });
    expect(car.step(inputs(NO_PWM, true)).cp).toBe("C");
    expect(car.status().state).toBe("CHARGING_FIXED");
  });

  test("pause is an EV-side pause: CP B, power not allowed", () => {
    const car = new Car();
    car.post("draw_power_regulated 16,3;sleep 1;pause", false);
    expect(car.step(inputs(26.7)).cp).toBe("C");
    const out = run(car, 4, 26.7);
    expect(out).toMatchObject({ cp: "B", allow_power_on: false });
    expect(car.status().state).toBe("PLUGGED_IN");
  });

  test("unplug drives CP A and clears power-on", () => {
    const car = new Car();
    car.post("draw_power_regulated 16,3;sleep 0.25;unplug", false);
    expect(car.step(inputs(50)).cp).toBe("C");
    expect(car.step(inputs(50))).toMatchObject({ cp: "A", allow_power_on: false });
    expect(car.status().state).toBe("UNPLUGGED");
  });

  test("error_e sets CP E and ends when the car sets another CP level", () => {
    const car = new Car();
    car.post("draw_power_regulated 16,3;sleep 0.25;error_e;sleep 0.25;pause", false);
    expect(car.step(inputs(50)).cp).toBe("C");
    expect(car.step(inputs(50))).toMatchObject({ cp: "E", allow_power_on: false });
    expect(car.status().state).toBe("ERROR_E");
    expect(car.step(inputs(50)).cp).toBe("B");
    expect(car.status().state).toBe("PLUGGED_IN");
  });

  test("error_e followed by unplug leaves CP A (not stuck at 0 V as upstream)", () => {
    const car = new Car();
    car.post("error_e;sleep 0.25;unplug", false);
    expect(car.step(inputs(NO_PWM)).cp).toBe("E");
    expect(car.step(inputs(NO_PWM)).cp).toBe("A");
  });

  test("diode_fail keeps the CP level, survives pause and re-plug, and ends only on unplug", () => {
    const car = new Car();
    car.post("draw_power_regulated 32,3;sleep 0.25;diode_fail;sleep 0.25;pause;sleep 0.25;draw_power_regulated 16 3", true);
    expect(car.step(inputs(50))).toMatchObject({ cp: "C", diode_fail: false });
    expect(car.step(inputs(50))).toMatchObject({ cp: "C", diode_fail: true, allow_power_on: false });
    expect(car.status().state).toBe("DIODE_FAIL");
    expect(car.step(inputs(50))).toMatchObject({ cp: "B", diode_fail: true });
    expect(car.step(inputs(50))).toMatchObject({ cp: "C", diode_fail: true });
    car.post("unplug", true);
    expect(car.step(inputs(50))).toMatchObject({ cp: "A", diode_fail: false });
  });

  test("the upstream default session script runs through its states with correct timing", () => {
    const car = new Car();
    car.post("sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 30;unplug", false);
    const cps: string[] = [];
    // the EVSE answers a plug-in with PWM two ticks later
    let pluggedAt = -1;
    for (let t = 1; t <= 140; t++) {
      if (pluggedAt < 0 && car.outputs().cp === "B") pluggedAt = t;
      const duty = pluggedAt > 0 && t >= pluggedAt + 2 ? 26.7 : NO_PWM;
      cps.push(car.step(inputs(duty)).cp);
    }
    expect(cps.slice(0, 4)).toEqual(["A", "A", "A", "A"]);
    expect(cps[4]).toBe("B"); // sleep 1 ends on tick 5, iec_wait_pwr_ready runs then
    expect(cps.indexOf("C")).toBe(11); // PWM seen on tick 7, sleep 1 ends on tick 11, C on tick 12
    expect(cps.lastIndexOf("C")).toBe(130);
    expect(cps[131]).toBe("A");
    expect(car.status().running).toBe(false);
  });
});

describe("posting, replacing and stopping scripts", () => {
  test("a bad script changes nothing, neither the car nor the running script", () => {
    const car = new Car();
    car.post("draw_power_fixed 16,3;sleep 10", false);
    car.step(inputs(50));
    const before = { out: car.outputs(), status: car.status() };
    expect(() => car.post("unplug;bogus", true)).toThrow(CarScriptError);
    expect(() => car.post("unplug;bogus", false)).toThrow(CarScriptError);
    expect({ out: car.outputs(), status: car.status() }).toEqual(before);
  });

  test("posting without replace while a script runs is refused with CarBusyError", () => {
    const car = new Car();
    car.post("sleep 10", false);
    expect(() => car.post("unplug", false)).toThrow(CarBusyError);
    expect(car.status()).toEqual({ running: true, script: "sleep 10", state: "UNPLUGGED" });
  });

  test("a script is refused as unparsable before the busy check", () => {
    const car = new Car();
    car.post("sleep 10", false);
    expect(() => car.post("bogus", false)).toThrow(CarScriptError);
  });

  test("posting without replace resets the car to unplugged before the script starts", () => {
    const car = new Car();
    car.post("draw_power_fixed 20,1;rcd_current 12;sleep 0.25;error_e;sleep 0.25;diode_fail", false);
    run(car, 3, 50);
    expect(car.outputs()).toMatchObject({ cp: "E", diode_fail: true, ev_max_current_A: 20, rcd_current_mA: 12 });
    expect(car.status().running).toBe(false);
    car.post("sleep 1;pause", false);
    expect(car.status()).toEqual({ running: true, script: "sleep 1;pause", state: "UNPLUGGED" });
    expect(car.outputs()).toEqual({
      cp: "A",
      diode_fail: false,
      ev_max_current_A: 0,
      three_phases: true,
      rcd_current_mA: 0.1,
      allow_power_on: false,
    });
    expect(car.step(inputs(50)).cp).toBe("A");
  });

  test("replace swaps the queue at once and keeps the car's plug state, demand and faults", () => {
    const car = new Car();
    car.post("draw_power_regulated 16,3;sleep 0.25;diode_fail;sleep 36000", false);
    run(car, 2, 50);
    expect(car.outputs()).toMatchObject({ cp: "C", diode_fail: true });
    car.post("sleep 1;unplug", true);
    expect(car.status()).toEqual({ running: true, script: "sleep 1;unplug", state: "DIODE_FAIL" });
    expect(car.outputs()).toMatchObject({ cp: "C", diode_fail: true, ev_max_current_A: 16 });
    expect(run(car, 4, 50).cp).toBe("C");
    expect(car.step(inputs(50))).toMatchObject({ cp: "A", diode_fail: false });
  });

  test("replace with no script running starts from the car's present state", () => {
    const car = new Car();
    car.post("draw_power_regulated 16,3", false);
    car.step(inputs(50));
    expect(car.status().running).toBe(false);
    car.post("rcd_current 9", true);
    expect(car.step(inputs(50))).toMatchObject({ cp: "C", rcd_current_mA: 9, ev_max_current_A: 16 });
  });

  test("the script is reported as posted while it runs and null once it has ended", () => {
    const car = new Car();
    const script = "Sleep 0.5, \n Pause";
    car.post(script, false);
    expect(car.status().script).toBe(script);
    car.step(inputs(NO_PWM));
    expect(car.status().script).toBe(script);
    car.step(inputs(NO_PWM));
    car.step(inputs(NO_PWM));
    expect(car.status()).toEqual({ running: false, script: null, state: "PLUGGED_IN" });
  });

  test("a script that ends without unplug leaves the car as it is", () => {
    const car = new Car();
    car.post("draw_power_regulated 16,3", false);
    car.step(inputs(50));
    expect(run(car, 10, 50)).toMatchObject({ cp: "C", ev_max_current_A: 16, allow_power_on: true });
    expect(car.status().state).toBe("CHARGING_REGULATED");
  });

  test("stop ends the script and the car stays as it is, still following the PWM", () => {
    const car = new Car();
    car.post("draw_power_regulated 16,3;sleep 1;unplug", false);
    car.step(inputs(50));
    car.stop();
    expect(car.status()).toEqual({ running: false, script: null, state: "CHARGING_REGULATED" });
    expect(run(car, 10, 50).cp).toBe("C");
    expect(car.step(inputs(NO_PWM)).cp).toBe("B");
  });

  test("stop without a running script is harmless and a new script can be posted afterwards", () => {
    const car = new Car();
    car.stop();
    car.post("sleep 10", false);
    car.stop();
    expect(() => car.post("pause", false)).not.toThrow();
    car.step(inputs(NO_PWM));
    expect(car.outputs().cp).toBe("B");
  });

  test("outputs() returns a copy that the caller cannot use to change the car", () => {
    const car = new Car();
    const out = car.outputs();
    out.cp = "C";
    expect(car.outputs().cp).toBe("A");
  });
});
