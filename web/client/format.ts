// Number formatting shared by the panels: power in kW, energy in Wh below 1 kWh (so a fresh
// session visibly moves) and kWh above, times in local clock time.

export const dash = "—";

export function kW(watts: number | null | undefined): string {
  return typeof watts === "number" ? `${(watts / 1000).toFixed(2)} kW` : dash;
}

export function energy(wh: number | null | undefined): string {
  if (typeof wh !== "number") return dash;
  return Math.abs(wh) < 1000 ? `${wh.toFixed(1)} Wh` : `${(wh / 1000).toFixed(3)} kWh`;
}

export function amps(a: number | null | undefined, digits = 1): string {
  return typeof a === "number" ? `${a.toFixed(digits)} A` : dash;
}

export function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

/** IEC 61851-1 Annex A: the current a PWM duty cycle offers (10-85 % → 0.6 A per %). */
export function dutyToAmps(duty: number): number | null {
  if (duty >= 10 && duty <= 85) return duty * 0.6;
  if (duty > 85 && duty <= 96) return (duty - 64) * 2.5;
  return null;
}

export const CP_MEANING: Record<string, string> = {
  A: "No vehicle",
  B: "Vehicle connected",
  C: "Vehicle charging",
  D: "Charging, ventilation",
  E: "No power / short",
  F: "Charger not available",
};
