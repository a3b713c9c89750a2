// Proximity-pilot bands of the simulated board (simulation.md §2.10; answered for sockets, §5
// item 4). Codes follow ProximityPilot.ampacity (board-protocol AMPACITIES).

/** Ampacity code (index into AMPACITIES) for a PP resistor in ohms. */
export function ppAmpacityCode(ohm: number): number {
  if (!(ohm > 80 && ohm <= 2460)) return 0;
  if (ohm > 936) return 1;
  if (ohm > 308) return 2;
  if (ohm > 140) return 3;
  return 4;
}
