// Duty → current the simulated car may draw, with the boundaries of standards.md §1.4
// (simulation.md §5 item 4). Duty in percent.
export function dutyToAmps(d: number): number {
  if (d < 8) return 0;
  if (d < 10) return 6;
  if (d <= 85) return d * 0.6;
  if (d <= 96) return (d - 64) * 2.5;
  if (d <= 97) return 80;
  return 0;
}

/** The HLC 5 % window (3–7 %): the EV takes its own maximum (simulation.md §2.4). */
export function inHlcWindow(d: number): boolean {
  return d >= 3 && d <= 7;
}
