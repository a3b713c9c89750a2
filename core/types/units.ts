// types/units.yaml at 2025.1.0: closed objects of plain numbers.
// Energy, Power and ReactivePower require `total`; Frequency requires `L1` (interface.md §6 item 11).
import * as v from "valibot";

const n = () => v.optional(v.number());

export const EnergySchema = v.strictObject({ total: v.number(), L1: n(), L2: n(), L3: n() });
export type Energy = v.InferOutput<typeof EnergySchema>;

export const PowerSchema = v.strictObject({ total: v.number(), L1: n(), L2: n(), L3: n() });
export type Power = v.InferOutput<typeof PowerSchema>;

export const ReactivePowerSchema = v.strictObject({ total: v.number(), L1: n(), L2: n(), L3: n() });
export type ReactivePower = v.InferOutput<typeof ReactivePowerSchema>;

export const CurrentSchema = v.strictObject({ DC: n(), L1: n(), L2: n(), L3: n(), N: n() });
export type Current = v.InferOutput<typeof CurrentSchema>;

export const VoltageSchema = v.strictObject({ DC: n(), L1: n(), L2: n(), L3: n() });
export type Voltage = v.InferOutput<typeof VoltageSchema>;

export const FrequencySchema = v.strictObject({ L1: v.number(), L2: n(), L3: n() });
export type Frequency = v.InferOutput<typeof FrequencySchema>;
