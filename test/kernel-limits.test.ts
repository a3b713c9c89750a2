// Limits and energy (behavior.md §13, D5, D6, D14), PWM rate rule (§7.4), PP ampacity (§7.5),
// phase switching (§6.11, §13.2 step 3).
import { describe, expect, test } from "bun:test";
import { enf, Harness } from "./kernel-harness.ts";

type Limits = { uuid: string; max_current: number; nr_of_phases_available: number };

async function prepareCharging(config = {}, capabilities = {}) {
  const h = await Harness.start({ config: { disable_authentication: true, ...config }, capabilities });
  await h.car("B");
  return h;
}

const lastLimits = (h: Harness) => h.published("limits").at(-1) as Limits;

describe("duty for given currents (S17)", () => {
  test("PrepareCharging applies every change on the next pass; ≤ 5.9 A is no power", async () => {
    const h = await prepareCharging();
    const m = h.mark();
    const cases: [number, number | null][] = [
      [6, 10],
      [10, 16.67],
      [16, 26.67],
      [32, 53.33],
    ];
    for (const [a, duty] of cases) {
      await h.enforce(enf(a, h.clock));
      await h.advance(1000);
      expect(lastLimits(h).max_current).toBe(a);
      expect(h.board.duty).toBeCloseTo(duty!, 2);
    }
    await h.enforce(enf(5, h.clock));
    expect(h.board.duty).toBeNull();
    await h.enforce(enf(5.95, h.clock));
    expect(h.board.duty).toBeCloseTo(10, 2);
    await h.enforce(enf(5.9, h.clock));
    expect(h.board.duty).toBeNull();
    expect(h.events(m)).toEqual(["WaitingForEnergy", "PrepareCharging", "WaitingForEnergy"]);
    expect(h.board.calls.some((c) => c.startsWith("pwm_on(100"))).toBe(false);
  });

  test("80 A hardware: 96 % for 80 A and above", async () => {
    const h = await prepareCharging({ max_current_import_A: 80 }, { max_current_A_import: 80 });
    expect(h.board.duty).toBeCloseTo(96, 2);
    for (const [a, duty] of [
      [51, 85],
      [51.5, 85],
      [52.5, 85],
      [63, 89.2],
      [100, 96],
    ] as const) {
      await h.enforce(enf(a, h.clock));
      expect(h.board.duty).toBeCloseTo(duty, 2);
    }
  });
});

describe("limits publication [D6] and watts [D5] (S27)", () => {
  test("watts are converted with the nominal voltage and phase count; limits only on change", async () => {
    const h = await prepareCharging();
    const before = h.published("limits").length;
    const w = (side: object, until = "2099-01-01T00:00:00Z") => ({ uuid: "x", valid_until: until, limits_root_side: side });
    await h.enforce(w({ total_power_W: 11040 }));
    expect(lastLimits(h).max_current).toBe(16);
    expect(h.board.duty).toBeCloseTo(26.67, 2);
    await h.enforce(w({ total_power_W: 11040 }));
    await h.enforce(w({ total_power_W: 11040, ac_max_current_A: 10 }));
    expect(h.board.duty).toBeCloseTo(16.67, 2);
    await h.enforce(w({ total_power_W: 4600, ac_max_current_A: 32 }));
    expect(lastLimits(h).max_current).toBeCloseTo(6.667, 2);
    expect(h.board.duty).toBeCloseTo(11.11, 2);
    await h.enforce(w({ total_power_W: 4600, ac_max_current_A: 32 }, "2098-01-01T00:00:00Z"));
    await h.enforce(w({}));
    expect(lastLimits(h).max_current).toBe(0);
    expect(h.board.duty).toBeNull();
    expect(h.published("limits").length - before).toBe(4);
    expect(h.published("enforced_limits")).toHaveLength(6);
    expect(h.published("enforced_limits")[0]).toEqual(w({ total_power_W: 11040 }));
    expect(lastLimits(h)).toEqual({ uuid: "evse_manager_1", max_current: 0, nr_of_phases_available: 3 });
  });

  test("the board over-current limit follows Ieff, sent only on change", async () => {
    const h = await prepareCharging();
    await h.enforce(enf(16, h.clock));
    await h.enforce(enf(16, h.clock));
    await h.enforce(enf(20, h.clock));
    const sent = h.board.calls.filter((c) => c.startsWith("ac_set_overcurrent_limit_A"));
    expect(sent).toEqual(["ac_set_overcurrent_limit_A(32)", "ac_set_overcurrent_limit_A(16)", "ac_set_overcurrent_limit_A(20)"]);
  });
});

describe("without energy manager, expiry [D14] (S28)", () => {
  test("config max applies, an expired limit gives 0 A, a stale valid_until changes nothing", async () => {
    const h = await prepareCharging({ max_current_import_A: 20 });
    const m = h.mark();
    expect(h.board.duty).toBeCloseTo(33.33, 2);
    expect(lastLimits(h).max_current).toBe(20);
    await h.enforce(enf(16, h.clock, {}, 4000));
    expect(h.board.duty).toBeCloseTo(26.67, 2);
    await h.advance(3900);
    expect(h.events(m)).toEqual([]);
    await h.advance(300);
    expect(h.events(m)).toEqual(["WaitingForEnergy"]);
    expect(lastLimits(h).max_current).toBe(0);
    await h.enforce(enf(40, h.clock));
    expect(h.events(m)).toEqual(["WaitingForEnergy", "PrepareCharging"]);
    expect(h.board.duty).toBeCloseTo(33.33, 2);
    const count = h.published("limits").length;
    await h.enforce({ uuid: "x", valid_until: "2000-01-01T00:00:00Z", limits_root_side: { ac_max_current_A: 6 } });
    expect(h.board.duty).toBeCloseTo(33.33, 2);
    expect(h.published("limits")).toHaveLength(count);
  });

  test("a limit above 1000 A is ignored", async () => {
    const h = await prepareCharging();
    await h.enforce(enf(10, h.clock));
    await h.enforce(enf(1001, h.clock));
    expect(lastLimits(h).max_current).toBe(10);
  });

  test("enforce_limits before the kernel starts is published and applies from the start", async () => {
    const h = await Harness.start({ config: { external_ready_to_start_charging: true } });
    await h.enforce(enf(16, h.clock));
    expect(h.published("enforced_limits")).toHaveLength(1);
    expect(h.published("limits")).toHaveLength(0);
    await h.cmd("external_ready_to_start_charging");
    expect(lastLimits(h).max_current).toBe(16);
  });
});

describe("PWM rate rule (S29)", () => {
  test("while charging, duty changes at most every 5 s; the limit itself is published at once", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    await h.startCharging({ free: true });
    await h.advance(7000);
    await h.enforce(enf(16, h.clock));
    expect(h.board.duty).toBeCloseTo(26.67, 2);
    await h.advance(300);
    await h.enforce(enf(10, h.clock));
    expect(lastLimits(h).max_current).toBe(10);
    await h.advance(4400);
    expect(h.board.duty).toBeCloseTo(26.67, 2);
    await h.advance(400);
    expect(h.board.duty).toBeCloseTo(16.67, 2);
    expect(h.board.relays).toBe(true);
  });
});

describe("proximity pilot (S18)", () => {
  test("a socket's cable ampacity limits Ieff until Idle", async () => {
    const h = await Harness.start({ config: { disable_authentication: true }, capabilities: { connector_type: "IEC62196Type2Socket" } });
    h.board.pp = "A_20";
    expect(lastLimits(h).max_current).toBe(32);
    await h.startCharging({ free: true });
    expect(h.board.duty).toBeCloseTo(33.33, 2);
    expect(lastLimits(h).max_current).toBe(20);
    await h.car("A");
    expect(lastLimits(h).max_current).toBe(32);
  });

  test("an unrecognised cable keeps the session waiting before the transaction", async () => {
    const h = await Harness.start({ config: { disable_authentication: true }, capabilities: { connector_type: "IEC62196Type2Socket" } });
    h.board.pp = "None";
    const m = h.mark();
    await h.car("B");
    await h.advance(5000);
    expect(h.events(m)).toEqual(["SessionStarted", "AuthRequired", "Authorized"]);
    h.board.pp = "A_13";
    await h.advance(100);
    expect(h.board.duty).toBeCloseTo(21.67, 2);
  });

  test("A_63_3ph_70_1ph means 70 A on single-phase hardware [Q10]", async () => {
    const h = await Harness.start({
      config: { disable_authentication: true, max_current_import_A: 80 },
      capabilities: { connector_type: "IEC62196Type2Socket", max_phase_count_import: 1, max_current_A_import: 80 },
    });
    h.board.pp = "A_63_3ph_70_1ph";
    await h.car("B");
    expect(lastLimits(h).max_current).toBe(70);
  });

  test("a fixed cable never reads PP", async () => {
    const h = await prepareCharging();
    expect(h.board.calls).not.toContain("ac_read_pp_ampacity");
  });
});

describe("phase switching", () => {
  test("row 26: a phase switch while charging goes through SwitchPhases and back to PrepareCharging", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    await h.startCharging({ free: true });
    const m = h.mark();
    await h.enforce(enf(16, h.clock, { ac_max_phase_count: 1 }));
    expect(h.events(m)).toEqual(["SwitchingPhases"]);
    expect(lastLimits(h).nr_of_phases_available).toBe(1);
    expect(h.board.output).toBe("X1");
    await h.car("B");
    await h.advance(9900);
    expect(h.board.calls).not.toContain("ac_switch_three_phases_while_charging(false)");
    await h.advance(200);
    expect(h.board.calls).toContain("ac_switch_three_phases_while_charging(false)");
    expect(h.events(m)).toEqual(["SwitchingPhases", "PrepareCharging"]);
    await h.car("C");
    expect(h.events(m)).toEqual(["SwitchingPhases", "PrepareCharging", "ChargingStarted"]);
  });

  test("outside a charging state the board switches at once; watts use the new phase count", async () => {
    const h = await Harness.start();
    await h.enforce({ uuid: "x", valid_until: "2099-01-01T00:00:00Z", limits_root_side: { ac_max_phase_count: 1, total_power_W: 3680 } });
    expect(h.board.calls).toContain("ac_switch_three_phases_while_charging(false)");
    expect(lastLimits(h)).toEqual({ uuid: "evse_manager_1", max_current: 16, nr_of_phases_available: 1 });
  });

  test("without hardware support the phase request is ignored", async () => {
    const h = await Harness.start({ capabilities: { supports_changing_phases_during_charging: false } });
    await h.enforce(enf(16, h.clock, { ac_max_phase_count: 1 }));
    expect(lastLimits(h).nr_of_phases_available).toBe(3);
  });

  test("the board's ac_nr_of_phases_available updates the published phase count", async () => {
    const h = await Harness.start();
    h.input({ kind: "ac_nr_of_phases_available", value: 1 });
    await h.settle();
    expect(lastLimits(h).nr_of_phases_available).toBe(1);
  });
});
