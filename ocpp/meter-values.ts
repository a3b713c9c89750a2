// A billing-meter reading (interface.md Powermeter) as OCPP 1.6 SampledValues (ocpp.md §6): each
// measurand asked for, as the total and per phase where the meter reports them, with its unit and
// location (Outlet; SoC: EV).
import type { Measurand } from "../core/config/index.ts";
import type { Powermeter } from "../core/types/index.ts";

export type ReadingContext = "Sample.Periodic" | "Sample.Clock" | "Transaction.Begin" | "Transaction.End" | "Trigger" | "Interruption.Begin" | "Interruption.End" | "Other";

export interface SampledValue {
  value: string;
  context?: ReadingContext;
  format?: "Raw" | "SignedData";
  measurand?: Measurand;
  phase?: "L1" | "L2" | "L3" | "N";
  location?: "Outlet" | "EV";
  unit?: "Wh" | "W" | "A" | "V" | "Hz" | "Celsius" | "Percent";
}

export interface MeterValue {
  timestamp: string;
  sampledValue: SampledValue[];
}

type Phased = { total?: number; L1?: number; L2?: number; L3?: number; N?: number; DC?: number };

const num = (x: number): string => String(Math.round(x * 1000) / 1000);

function phased(out: SampledValue[], base: Omit<SampledValue, "value" | "phase">, q: Phased | undefined, withTotal: boolean, withN = false): void {
  if (!q) return;
  if (withTotal && typeof q.total === "number") out.push({ ...base, value: num(q.total) });
  for (const phase of (withN ? ["L1", "L2", "L3", "N"] : ["L1", "L2", "L3"]) as ("L1" | "L2" | "L3" | "N")[]) {
    const x = q[phase];
    if (typeof x === "number") out.push({ ...base, value: num(x), phase });
  }
}

/** Extra readings the meter does not carry: the current offered to the EV, the SoC. */
export interface Extras {
  currentOffered_A?: number | null;
  soc?: number | null;
}

export function sampledValues(reading: Powermeter, measurands: readonly Measurand[], context: ReadingContext, extras: Extras = {}): SampledValue[] {
  const out: SampledValue[] = [];
  for (const measurand of measurands) {
    const base = { context, measurand, location: "Outlet" as const };
    switch (measurand) {
      case "Energy.Active.Import.Register":
        phased(out, { ...base, unit: "Wh" }, reading.energy_Wh_import, true);
        break;
      case "Energy.Active.Export.Register":
        phased(out, { ...base, unit: "Wh" }, reading.energy_Wh_export, true);
        break;
      case "Power.Active.Import":
        phased(out, { ...base, unit: "W" }, reading.power_W, true);
        break;
      case "Current.Import": {
        const c = reading.current_A;
        if (c) {
          const phases = [c.L1, c.L2, c.L3].filter((x): x is number => typeof x === "number");
          // The meter has no total current; the phases' sum would be meaningless, so only phases (and N).
          phased(out, { ...base, unit: "A" }, c, false, true);
          if (phases.length === 0 && typeof c.DC === "number") out.push({ ...base, unit: "A", value: num(c.DC) });
        }
        break;
      }
      case "Current.Offered":
        if (typeof extras.currentOffered_A === "number") out.push({ ...base, unit: "A", value: num(extras.currentOffered_A) });
        break;
      case "Voltage":
        phased(out, { ...base, unit: "V" }, reading.voltage_V, false);
        if (reading.voltage_V && typeof reading.voltage_V.DC === "number") out.push({ ...base, unit: "V", value: num(reading.voltage_V.DC) });
        break;
      case "Frequency":
        phased(out, base, reading.frequency_Hz as Phased | undefined, false);
        break;
      case "Temperature":
        for (const t of reading.temperatures ?? []) out.push({ ...base, unit: "Celsius", value: num(t.temperature) });
        break;
      case "SoC":
        if (typeof extras.soc === "number") out.push({ ...base, location: "EV", unit: "Percent", value: num(extras.soc) });
        break;
    }
  }
  return out;
}

export const meterStart = (reading: Powermeter): number => Math.max(0, Math.round(reading.energy_Wh_import.total));
