// Number formatting shared by the panels: power in kW, energy in Wh below 1 kWh (so a fresh
// session visibly moves) and kWh above, times in local clock time.
import { ampsForDuty } from "../../core/pwm.ts";

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

/** The current a PWM duty cycle offers (the IEC 61851-1 rule of core/pwm.ts); null where none. */
export function dutyToAmps(duty: number): number | null {
  const a = ampsForDuty(duty);
  return a > 0 ? a : null;
}

export const CP_MEANING: Record<string, string> = {
  A: "No vehicle",
  B: "Vehicle connected",
  C: "Vehicle charging",
  D: "Charging, ventilation",
  E: "No power / short",
  F: "Charger not available",
};
