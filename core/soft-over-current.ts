// Soft over-current (behavior.md §14.5): a phase current above the advertised current plus noise
// and tolerance for soft_over_current_timeout_ms is an error. Only while charging or paused by the
// EV; the charger resets the timer on every other state.
import type { EvseConfig } from "./config/index.ts";
import type { Current } from "./types/index.ts";

type Options = Pick<
  EvseConfig,
  "soft_over_current_measurement_noise_A" | "soft_over_current_tolerance_percent" | "soft_over_current_timeout_ms"
>;

export class SoftOverCurrent {
  private since: number | null = null;

  constructor(private readonly cfg: Options) {}

  reset(): void {
    this.since = null;
  }

  /** The error message when the current has been too high for the timeout (the timer restarts), else null.
   *  Without all three phase currents nothing changes. */
  check(current: Current | undefined, advertisedA: number, now: number): string | null {
    if (current?.L1 === undefined || current.L2 === undefined || current.L3 === undefined) return null;
    const cfg = this.cfg;
    const limit = (advertisedA + cfg.soft_over_current_measurement_noise_A) * (1 + cfg.soft_over_current_tolerance_percent / 100);
    if (Math.max(current.L1, current.L2, current.L3) <= limit) {
      this.since = null;
      return null;
    }
    this.since ??= now;
    if (now - this.since < cfg.soft_over_current_timeout_ms) return null;
    this.since = null;
    return `current above ${limit.toFixed(2)} A for ${cfg.soft_over_current_timeout_ms} ms`;
  }
}
