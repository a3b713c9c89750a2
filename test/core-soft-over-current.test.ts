// Soft over-current of behavior.md §14.5 with an injected time.
import { describe, expect, test } from "bun:test";
import { SoftOverCurrent } from "../core/soft-over-current.ts";

const CFG = { soft_over_current_measurement_noise_A: 0.5, soft_over_current_tolerance_percent: 10, soft_over_current_timeout_ms: 7000 };
const amps = (l1: number, l2 = 0, l3 = 0) => ({ L1: l1, L2: l2, L3: l3 });

describe("soft over-current", () => {
  test("a phase above (advertised + noise) × (1 + tolerance) for the timeout is an error, and the timer restarts", () => {
    const oc = new SoftOverCurrent(CFG);
    // 16 A advertised: limit (16 + 0.5) × 1.1 = 18.15 A
    expect(oc.check(amps(0, 18.15, 0), 16, 0)).toBeNull();
    expect(oc.check(amps(0, 0, 18.2), 16, 1000)).toBeNull();
    expect(oc.check(amps(0, 0, 18.2), 16, 7999)).toBeNull();
    expect(oc.check(amps(0, 0, 18.2), 16, 8000)).toBe("current above 18.15 A for 7000 ms");
    expect(oc.check(amps(0, 0, 18.2), 16, 8001)).toBeNull();
  });

  test("a reading back under the limit, or a reset, restarts the timer", () => {
    const oc = new SoftOverCurrent(CFG);
    oc.check(amps(20), 16, 0);
    oc.check(amps(10), 16, 5000);
    expect(oc.check(amps(20), 16, 7000)).toBeNull();
    oc.reset();
    expect(oc.check(amps(20), 16, 13000)).toBeNull();
    expect(oc.check(amps(20), 16, 20000)).not.toBeNull();
  });

  test("without all three phase currents nothing changes", () => {
    const oc = new SoftOverCurrent(CFG);
    oc.check(amps(20), 16, 0);
    expect(oc.check({ L1: 40 }, 16, 7000)).toBeNull();
    expect(oc.check(undefined, 16, 7000)).toBeNull();
    expect(oc.check(amps(20), 16, 7000)).not.toBeNull();
  });
});
