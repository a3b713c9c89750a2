// Current → duty table of behavior.md §7.4 with its worked values.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { dutyPercentForCurrent, powerAvailable } from "../core/pwm.ts";

describe("current → PWM duty", () => {
  test("worked values of §7.4", () => {
    const worked: [number, number][] = [
      [6, 10],
      [10, 16.67],
      [13, 21.67],
      [16, 26.67],
      [20, 33.33],
      [32, 53.33],
      [51, 85],
      [51.5, 85],
      [52.5, 85],
      [63, 89.2],
      [80, 96],
    ];
    for (const [a, duty] of worked) expect(dutyPercentForCurrent(a)).toBeCloseTo(duty, 2);
  });

  test("5.9 A and below is no PWM (X1), just above is 10 %", () => {
    expect(dutyPercentForCurrent(5.9)).toBeNull();
    expect(dutyPercentForCurrent(0)).toBeNull();
    expect(dutyPercentForCurrent(-3)).toBeNull();
    expect(dutyPercentForCurrent(5.95)).toBe(10);
    expect(dutyPercentForCurrent(6.1)).toBe(10);
    expect(powerAvailable(5.9)).toBe(false);
    expect(powerAvailable(5.91)).toBe(true);
  });

  test("above 80 A the duty is 97 %, never 100 % [Q8]", () => {
    expect(dutyPercentForCurrent(80.05)).toBe(97);
    expect(dutyPercentForCurrent(1000)).toBe(97);
    fc.assert(
      fc.property(fc.double({ min: -100, max: 2000, noNaN: true }), (a) => {
        const d = dutyPercentForCurrent(a);
        return d === null ? a <= 5.9 : d >= 10 && d <= 97;
      }),
    );
  });

  test("duty never decreases when the current grows", () => {
    fc.assert(
      fc.property(fc.double({ min: 5.91, max: 200, noNaN: true }), fc.double({ min: 0, max: 50, noNaN: true }), (a, delta) => {
        return dutyPercentForCurrent(a + delta)! >= dutyPercentForCurrent(a)!;
      }),
    );
  });
});
