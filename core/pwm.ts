// IEC 61851-1 current → PWM duty (behavior.md §7.4). The reference sent pwm_on(100) below 5.9 A
// and above 80.1 A; we never do [Q8]: "no power" is X1, and anything above 80 A is offered as 80 A.

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
