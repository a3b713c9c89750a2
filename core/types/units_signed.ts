// types/units_signed.yaml at 2025.1.0. Unlike `units`, nothing in the per-quantity containers
// is required. Prefixed `Signed` because the upstream names clash with units.ts.
import * as v from "valibot";
import { dateTime } from "./schema-helpers.ts";

export const SignedMeterValueSchema = v.strictObject({
  signed_meter_data: v.string(),
  signing_method: v.string(),
  encoding_method: v.string(),
  public_key: v.optional(v.string()),
  timestamp: v.optional(dateTime()),
});
export type SignedMeterValue = v.InferOutput<typeof SignedMeterValueSchema>;

const s = () => v.optional(SignedMeterValueSchema);

export const SignedEnergySchema = v.strictObject({ total: s(), L1: s(), L2: s(), L3: s() });
export type SignedEnergy = v.InferOutput<typeof SignedEnergySchema>;

export const SignedPowerSchema = v.strictObject({ total: s(), L1: s(), L2: s(), L3: s() });
export type SignedPower = v.InferOutput<typeof SignedPowerSchema>;

export const SignedReactivePowerSchema = v.strictObject({ total: s(), L1: s(), L2: s(), L3: s() });
export type SignedReactivePower = v.InferOutput<typeof SignedReactivePowerSchema>;

export const SignedCurrentSchema = v.strictObject({ DC: s(), L1: s(), L2: s(), L3: s(), N: s() });
export type SignedCurrent = v.InferOutput<typeof SignedCurrentSchema>;

export const SignedVoltageSchema = v.strictObject({ DC: s(), L1: s(), L2: s(), L3: s() });
export type SignedVoltage = v.InferOutput<typeof SignedVoltageSchema>;

export const SignedFrequencySchema = v.strictObject({ L1: s(), L2: s(), L3: s() });
export type SignedFrequency = v.InferOutput<typeof SignedFrequencySchema>;
