// The local energy manager's standing current limit (integration.md §2) and its failsafe: a limit
// that no PUT …/control has refreshed within `failsafe_timeout_s` falls back to
// `failsafe_current_A` until the next PUT — what a charger must do when its energy manager dies
// (cf. OCPP 2.0.1's failsafe, OpenEVSE's heartbeat fallback). Time comes from the kernel's clock.
import type { ControlOptions } from "./config/index.ts";

export class LocalLimit {
  private limitA: number | null = null;
  private refreshedAt: number;
  private fallenBack = false;

  constructor(
    private readonly opts: Pick<ControlOptions, "failsafe_timeout_s" | "failsafe_current_A">,
    now: number,
  ) {
    this.refreshedAt = now;
  }

  /** The limit as the energy manager set it (null: none). */
  get standingA(): number | null {
    return this.limitA;
  }

  get failsafe(): boolean {
    return this.fallenBack;
  }

  /** A PUT …/control: refreshes the failsafe timer; `limitA` undefined keeps the limit.
   *  Returns true when this ends a failsafe fallback. */
  refresh(now: number, limitA?: number | null): boolean {
    if (limitA !== undefined) this.limitA = limitA;
    this.refreshedAt = now;
    const ended = this.fallenBack;
    this.fallenBack = false;
    return ended;
  }

  /** Checked on every kernel tick. Returns true at the moment the fallback starts. */
  expire(now: number): boolean {
    const timeoutMs = this.opts.failsafe_timeout_s * 1000;
    if (this.fallenBack || this.limitA === null || timeoutMs <= 0 || now - this.refreshedAt < timeoutMs) return false;
    this.fallenBack = true;
    return true;
  }

  /** What enters the minimum of the effective current: null without a limit. */
  currentA(): number | null {
    return this.fallenBack ? this.opts.failsafe_current_A : this.limitA;
  }
}
