// IEC 61851-1 PWM rules, once for the whole product: the current a duty offers (what the EV may
// draw, standards.md §1.4; the worker's interlocks, the simulated car and the dashboard use it),
// the duty for a current (behavior.md §7.4, the kernel), and the current a cable's PP coding
// carries. The reference sent pwm_on(100) below 5.9 A and above 80.1 A; we never do [Q8]: "no
// power" is X1, and anything above 80 A is offered as 80 A.
import type { Ampacity } from "./types/board_support.ts";

/** Power is available only strictly above this current (behavior.md §2). */
export const POWER_THRESHOLD_A = 5.9;

export function powerAvailable(currentA: number): boolean {
  return currentA > POWER_THRESHOLD_A;
}

/** Duty in percent (what `pwm_on` takes) for an offered current, or null for "no PWM" (CP X1). */
export function dutyPercentForCurrent(currentA: number): number | null {
  if (!powerAvailable(currentA)) return null;
  if (currentA <= 6.1) return 10;
  if (currentA < 52.5) return Math.min(currentA, 51) / 0.6;
  if (currentA <= 80) return currentA / 2.5 + 64;
  return 97;
}

/** The current (A) a duty (percent) offers as the EV reads it; 0 where it offers none. Computed on
 *  the board protocol's 0.01 % grid, so that a duty from dutyForAtMost() maps back exactly. */
export function ampsForDuty(dutyPercent: number): number {
  const d = Math.round(dutyPercent * 100);
  if (d < 800) return 0;
  if (d < 1000) return 6;
  if (d <= 8500) return (d * 6) / 1000;
  if (d <= 9600) return (d - 6400) / 40;
  if (d <= 9700) return 80;
  return 0;
}

/** The largest duty, in 0.01 % (the board protocol's unit), whose current does not exceed `amps`
 *  (amps ≥ 6). */
export function dutyForAtMost(amps: number): number {
  if (amps >= 80) return 9600;
  if (amps <= 51) return Math.floor((amps / 0.6) * 100 + 1e-9);
  return Math.floor((amps / 2.5 + 64) * 100 + 1e-9);
}

/** The current a cable's PP coding carries; 0 for None. 63 A three-phase / 70 A one-phase. */
export function cableAmps(ampacity: Ampacity, threePhases: boolean): number {
  switch (ampacity) {
    case "A_13":
      return 13;
    case "A_20":
      return 20;
    case "A_32":
      return 32;
    case "A_63_3ph_70_1ph":
      return threePhases ? 63 : 70;
    case "None":
      return 0;
  }
}
