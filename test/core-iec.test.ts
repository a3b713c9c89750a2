// The CP layer of behavior.md §7.1–7.3 and §7.6, on its own with a recording board.
import { describe, expect, test } from "bun:test";
import { IecStateMachine, type RawCp } from "../core/iec-state-machine.ts";
import { FakeBoard, FakeClock } from "./kernel-harness.ts";

function layer(opts: Partial<{ has_ventilation: boolean; lock_connector_in_state_b: boolean }> = {}) {
  const clock = new FakeClock();
  const board = new FakeBoard(); // no kernel attached: it only records
  const iec = new IecStateMachine(board, clock, { has_ventilation: true, lock_connector_in_state_b: true, ...opts });
  const feed = (...states: RawCp[]) => states.flatMap((s) => iec.onRawState(s));
  return { clock, board, iec, feed };
}

describe("raw CP → CP events", () => {
  test("plug-in B, C, back to B, unplug", () => {
    const { feed } = layer();
    expect(feed("A")).toEqual([]); // first report against unknown
    expect(feed("B")).toEqual([]);
    expect(feed("C")).toEqual(["CarRequestedPower"]);
    expect(feed("B")).toEqual(["CarRequestedStopPower"]);
    expect(feed("A")).toEqual(["CarUnplugged"]);
  });

  test("a car already in B at start yields CarRequestedStopPower", () => {
    const { feed } = layer();
    expect(feed("B")).toEqual(["CarRequestedStopPower"]);
  });

  test("E from a connected state gives BCDtoEF and BCDtoE; F gives BCDtoEF; the way back EFtoBCD", () => {
    const { feed } = layer();
    feed("A", "B");
    expect(feed("E")).toEqual(["BCDtoEF", "BCDtoE"]);
    expect(feed("B")).toEqual(["CarRequestedStopPower", "EFtoBCD"]);
    expect(feed("F")).toEqual(["BCDtoEF"]);
  });

  test("a car found in C after F is remembered as requesting power", () => {
    const { feed } = layer();
    feed("A", "B", "C");
    expect(feed("F")).toEqual(["BCDtoEF"]);
    expect(feed("C")).toEqual(["EFtoBCD", "CarRequestedPower"]);
  });

  test("simplified mode: A→C synthesizes CarRequestedPower when PWM starts", () => {
    const { feed, iec } = layer();
    expect(feed("A", "C")).toEqual([]);
    expect(iec.simplifiedMode).toBe(true);
    iec.pwm(53.33, 32);
    expect(iec.takeSynthesized()).toEqual(["CarRequestedPower"]);
    feed("A");
    expect(iec.simplifiedMode).toBe(false);
  });

  test("D without ventilation forbids the relays and produces no events", () => {
    const { feed, iec, board } = layer({ has_ventilation: false });
    feed("A", "B");
    iec.pwm(53.33, 32);
    iec.allowPowerOn();
    board.take();
    expect(feed("D")).toEqual([]);
    expect(iec.rPlusHeld).toBe(false); // the stored R+ is dropped: nothing was forwarded in B
    expect(board.calls).not.toContain("allow_power_on(true,FullPowerCharging)");
  });
});

describe("relay gating", () => {
  test("R+ is forwarded only in C with PWM running", () => {
    const { feed, iec, board } = layer();
    feed("A", "B");
    board.take();
    iec.allowPowerOn();
    expect(board.calls).toEqual([]);
    iec.pwm(53.33, 32);
    expect(board.take()).toEqual(["pwm_on(53.33)"]);
    feed("C");
    expect(board.take()).toEqual(["allow_power_on(true,FullPowerCharging)"]);
  });

  test("C→B withdraws permission; the kernel must issue R+ again", () => {
    const { feed, iec, board } = layer();
    feed("A", "B");
    iec.pwm(53.33, 32);
    feed("C");
    iec.allowPowerOn();
    board.take();
    feed("B");
    expect(board.take()).toEqual(["allow_power_on(false,PowerOff)"]);
    expect(iec.rPlusHeld).toBe(false);
  });

  test("PWM off in C starts the 6 s C1 timer; PWM back before it stops it and recloses", () => {
    const { feed, iec, board, clock } = layer();
    feed("A", "B");
    iec.pwm(53.33, 32);
    feed("C");
    iec.allowPowerOn();
    iec.x1();
    board.take();
    clock.t += 5900;
    iec.tick();
    expect(board.calls).toEqual([]);
    iec.pwm(53.33, 32);
    expect(board.take()).toEqual(["pwm_on(53.33)", "allow_power_on(true,FullPowerCharging)"]);
    iec.x1();
    board.take();
    clock.t += 6000;
    iec.tick();
    expect(board.take()).toEqual(["allow_power_on(false,PowerOff)"]);
  });

  test("the contactor watchdog fires 3 s after R− while the board still reports closed relays", () => {
    const { iec, clock } = layer();
    iec.onRelayReport(true);
    iec.powerOff();
    clock.t += 2900;
    expect(iec.tick()).toBe(false);
    clock.t += 100;
    expect(iec.tick()).toBe(true);
    iec.powerOff();
    iec.onRelayReport(false);
    clock.t += 5000;
    expect(iec.tick()).toBe(false);
  });
});

describe("CP output", () => {
  test("the F pulse holds F over requests and then applies the last request", () => {
    const { iec, board, clock } = layer();
    iec.pwm(53.33, 32);
    board.take();
    iec.faultPulse(300);
    expect(board.take()).toEqual(["pwm_F"]);
    iec.x1();
    expect(board.take()).toEqual([]);
    clock.t += 300;
    iec.tick();
    expect(board.take()).toEqual(["pwm_off"]);
    expect(iec.advertisedA).toBe(0);
  });

  test("identical requests are not re-sent", () => {
    const { iec, board } = layer();
    iec.x1();
    iec.x1();
    iec.pwm(26.67, 16);
    iec.pwm(26.67, 16);
    expect(board.take()).toEqual(["pwm_off", "pwm_on(26.67)"]);
  });
});

describe("connector lock", () => {
  test("locks in B and C, unlocks in A; force_unlock holds until the lock-wanted flag clears", () => {
    const { feed, iec, board } = layer();
    feed("A", "B");
    expect(board.locked).toBe(true);
    iec.forceUnlock();
    expect(board.locked).toBe(false);
    feed("C");
    expect(board.locked).toBe(false);
    feed("A", "B");
    expect(board.locked).toBe(true);
  });

  test("closed relays always keep the lock", () => {
    const { feed, iec, board } = layer();
    feed("A", "B");
    iec.onRelayReport(true);
    iec.forceUnlock();
    expect(board.locked).toBe(true);
    iec.onRelayReport(false);
    expect(board.locked).toBe(false);
  });

  test("in F the lock opens after 5 s", () => {
    const { feed, iec, board, clock } = layer();
    feed("A", "B", "F");
    clock.t += 4900;
    iec.tick();
    expect(board.locked).toBe(true);
    clock.t += 100;
    iec.tick();
    expect(board.locked).toBe(false);
  });
});
