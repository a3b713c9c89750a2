// Effective current and the energy manager's enforced limits (behavior.md §13.1–13.3, D5, D14).
// The UK random delay (§13.5) is an optional feature that this product does not implement: its
// options are accepted and ignored.
import type { EnforcedLimits, HardwareCapabilities } from "./types/index.ts";

/** An energy-manager limit above this is ignored (§13.2 step 5). */
export const ABSOLUTE_CURRENT_LIMIT_A = 1000;

export interface IeffInputs {
  configMaxA: number;
  capabilities: HardwareCapabilities | null;
  /** PP ampacity of a socket's cable, 0 while unknown (then not applied). */
  cableA: number;
  emLimitA: number | null;
  /** Local control (integration.md §2), failsafe applied; null without one. */
  localA?: number | null;
  /** This EVSE's share of the site current (integration.md §6); null without a site limit. */
  siteA?: number | null;
}

/** D14: min(config, hardware, cable, energy manager), and the local limit and the site share
 *  where there are such; 0 until capabilities arrive; never negative. */
export function effectiveCurrent(i: IeffInputs): number {
  let a = Math.min(i.configMaxA, i.capabilities?.max_current_A_import ?? 0);
  if (i.cableA > 0) a = Math.min(a, i.cableA);
  if (i.emLimitA !== null) a = Math.min(a, i.emLimitA);
  if (i.localA !== undefined && i.localA !== null) a = Math.min(a, i.localA);
  if (i.siteA !== undefined && i.siteA !== null) a = Math.min(a, i.siteA);
  return Math.max(0, a);
}

/** §13.2 step 3: boards switch only between 1 and 3 phases. */
export function phaseTarget(limits: EnforcedLimits, capabilities: HardwareCapabilities | null): 1 | 3 | null {
  const requested = limits.limits_root_side?.ac_max_phase_count;
  if (requested === undefined) return null;
  return requested >= 3 && capabilities?.max_phase_count_import === 3 ? 3 : 1;
}

/** §13.2 step 4 [D5]: the smaller of amperes and watts converted with the nominal voltage. */
export function requestedCurrent(limits: EnforcedLimits, nominalVoltage: number, phases: number): number {
  const side = limits.limits_root_side;
  const candidates: number[] = [];
  if (side?.ac_max_current_A !== undefined) candidates.push(side.ac_max_current_A);
  if (side?.total_power_W !== undefined) candidates.push(side.total_power_W / nominalVoltage / phases);
  if (candidates.length === 0) return 0;
  return Math.max(0, Math.min(...candidates));
}

/** The energy manager's grant with its expiry; absent until the first accepted enforce_limits. */
export class EnergyManagerLimit {
  private limit: { currentA: number; validUntil: number } | null = null;

  /** §13.2 step 5: returns false (nothing changes) for a stale or absurd limit. */
  accept(currentA: number, validUntil: number, now: number): boolean {
    if (!(validUntil > now) || currentA > ABSOLUTE_CURRENT_LIMIT_A) return false;
    this.limit = { currentA, validUntil };
    return true;
  }

  /** null without an energy manager; 0 once `valid_until` has passed. */
  currentA(now: number): number | null {
    if (this.limit === null) return null;
    return this.limit.validUntil < now ? 0 : this.limit.currentA;
  }
}
