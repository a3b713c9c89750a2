// The HLC 5 % window (3–7 %): the EV takes its own maximum (simulation.md §2.4). The IEC duty →
// current rule itself is core/pwm.ts ampsForDuty. Duty in percent.
export function inHlcWindow(d: number): boolean {
  return d >= 3 && d <= 7;
}
