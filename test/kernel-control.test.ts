// Local control (integration.md §2) and the site share (§6) as further limits of the effective
// current (behavior.md §13.1, D14): minimum of every source, 0 pauses with the session kept, the
// PWM rate rule, the failsafe on the kernel's clock, enable/disable as LocalAPI, phase switching.
import { describe, expect, test } from "bun:test";
import { KernelNotStartedError } from "../core/kernel-api.ts";
import { enf, Harness } from "./kernel-harness.ts";

const FAILSAFE = { enable_priority: 100, failsafe_timeout_s: 10, failsafe_current_A: 6 };

async function charging(opts: Parameters<typeof Harness.start>[0] = {}): Promise<Harness> {
  const h = await Harness.start({ ...opts, config: { disable_authentication: true, ...opts.config } });
  await h.startCharging({ free: true });
  expect(h.kernel.status().state).toBe("Charging");
  return h;
}

describe("the local limit in the effective current", () => {
  test("is the minimum with the energy manager's limit and the site share", async () => {
    const h = await charging();
    await h.kernel.localControl({ max_current_A: 16 });
    expect(h.kernel.status().max_current_A).toBe(16);
    await h.enforce(enf(10, h.clock));
    expect(h.kernel.status().max_current_A).toBe(10);
    await h.kernel.localControl({ max_current_A: 8 });
    expect(h.kernel.status().max_current_A).toBe(8);
    await h.kernel.setSiteShare(7);
    expect(h.kernel.status()).toMatchObject({ max_current_A: 7, own_limit_A: 8, site_share_A: 7, local_limit_A: 8 });
    await h.kernel.localControl({ max_current_A: null });
    await h.kernel.setSiteShare(null);
    expect(h.kernel.status().max_current_A).toBe(10);
    expect((h.published("limits").at(-1) as { max_current: number }).max_current).toBe(10);
  });

  test("a lower limit follows the 5 s PWM rule while charging; 0 pauses with the session kept; a new limit resumes", async () => {
    const h = await charging();
    expect(h.board.duty).toBeCloseTo(53.33, 2);
    const session = h.kernel.status().session_uuid;
    await h.advance(5000);
    await h.kernel.localControl({ max_current_A: 16 });
    expect(h.board.duty).toBeCloseTo(26.67, 2);
    await h.kernel.localControl({ max_current_A: 10 });
    expect(h.board.duty).toBeCloseTo(26.67, 2); // less than 5 s since the last change
    await h.advance(5000);
    expect(h.board.duty).toBeCloseTo(16.67, 2);
    const m = h.mark();
    await h.kernel.localControl({ max_current_A: 0 });
    expect(h.board.output).toBe("X1");
    expect(h.kernel.status()).toMatchObject({ state: "WaitingForEnergy", session_uuid: session, offered_current_A: 0 });
    expect(h.events(m)).toEqual(["WaitingForEnergy"]);
    await h.kernel.localControl({ max_current_A: 20 });
    await h.advance(200);
    expect(h.events(m)).toEqual(["WaitingForEnergy", "PrepareCharging", "ChargingStarted"]);
    expect(h.board.duty).toBeCloseTo(33.33, 2);
    expect(h.kernel.status().session_uuid).toBe(session);
  });

  test("a limit set before the kernel starts applies from the start", async () => {
    const h = await Harness.start({ start: false, config: { disable_authentication: true } });
    expect(await h.kernel.localControl({ max_current_A: 13 })).toBeNull();
    await expect(h.kernel.localControl({ enabled: false })).rejects.toBeInstanceOf(KernelNotStartedError);
    const started = await Harness.start({ config: { disable_authentication: true } });
    await started.kernel.localControl({ max_current_A: 13 });
    await started.startCharging({ free: true });
    expect(started.board.duty).toBeCloseTo(21.67, 2);
  });
});

describe("the failsafe", () => {
  test("a limit not refreshed within the timeout falls back to failsafe_current_A until the next PUT, logged", async () => {
    const h = await charging({ control: FAILSAFE });
    await h.kernel.localControl({ max_current_A: 20 });
    await h.advance(9000);
    await h.kernel.localControl({}); // any PUT refreshes
    await h.advance(9900);
    expect(h.kernel.status().failsafe).toBe(false);
    await h.advance(200);
    expect(h.kernel.status()).toMatchObject({ failsafe: true, local_limit_A: 20, max_current_A: 6 });
    expect(h.logs.filter((l) => l.startsWith("failsafe:"))).toHaveLength(1);
    await h.advance(5000);
    expect(h.board.duty).toBeCloseTo(10, 2);
    await h.kernel.localControl({});
    expect(h.kernel.status()).toMatchObject({ failsafe: false, max_current_A: 20 });
    expect(h.logs.some((l) => l.startsWith("failsafe ended"))).toBe(true);
  });

  test("failsafe_current_A 0 pauses; without a local limit nothing falls back", async () => {
    const h = await charging({ control: { ...FAILSAFE, failsafe_current_A: 0 } });
    await h.advance(30_000);
    expect(h.kernel.status().failsafe).toBe(false);
    await h.kernel.localControl({ max_current_A: 16 });
    await h.advance(10_100);
    expect(h.kernel.status()).toMatchObject({ failsafe: true, state: "WaitingForEnergy" });
    expect(h.board.output).toBe("X1");
  });

  test("timeout 0 never falls back", async () => {
    const h = await charging({ control: { ...FAILSAFE, failsafe_timeout_s: 0 } });
    await h.kernel.localControl({ max_current_A: 16 });
    await h.advance(60_000);
    expect(h.kernel.status().failsafe).toBe(false);
  });
});

describe("enabled and phases", () => {
  test("enabled is enable_disable with source LocalAPI and the configured priority", async () => {
    const h = await charging({ control: { ...FAILSAFE, enable_priority: 42 } });
    const m = h.mark();
    await h.kernel.localControl({ enabled: false });
    await h.advance(100); // the relays report open
    expect(h.kernel.status()).toMatchObject({ enabled: false, state: "Disabled" });
    const disabled = h.lastEvent("Disabled") as unknown as { source: unknown };
    expect(disabled.source).toEqual({ enable_source: "LocalAPI", enable_state: "Disable", enable_priority: 42 });
    expect(h.events(m)).toContain("TransactionFinished");
    await h.kernel.localControl({ enabled: true });
    expect(h.kernel.status().enabled).toBe(true);
  });

  test("phases while charging: SwitchPhases where the hardware can, refused (nothing changes) where it cannot", async () => {
    const h = await charging({ config: { switch_3ph1ph_delay_s: 1 } });
    const m = h.mark();
    expect(await h.kernel.localControl({ phases: 1 })).toBeNull();
    expect(h.events(m)).toEqual(["SwitchingPhases"]);
    expect(h.kernel.status().phases).toBe(1);
    await h.advance(1100);
    expect(h.board.calls).toContain("ac_switch_three_phases_while_charging(false)");
    expect(await h.kernel.localControl({ phases: 1 })).toBeNull(); // already

    const fixed = await charging({ capabilities: { supports_changing_phases_during_charging: false } });
    const refusal = await fixed.kernel.localControl({ phases: 1, max_current_A: 10 });
    expect(refusal).toContain("cannot switch phases while charging");
    expect(fixed.kernel.status()).toMatchObject({ phases: 3, local_limit_A: null });

    const onePhase = await Harness.start({ capabilities: { max_phase_count_import: 1 } });
    expect(await onePhase.kernel.localControl({ phases: 3 })).toContain("1 phase");
  });
});
