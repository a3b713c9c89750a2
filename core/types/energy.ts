// types/energy.yaml and energy_price_information.yaml at 2025.1.0 (the tag shape:
// absolute `valid_until`, plain-number limits; HEAD differs, interface.md §7.6).
import * as v from "valibot";
import { dateTime, int } from "./schema-helpers.ts";

export const PricePerkWhSchema = v.strictObject({
  timestamp: dateTime(),
  value: v.number(),
  currency: v.pipe(v.string(), v.length(3, "must be exactly 3 characters (ISO 4217 code)")),
});
export type PricePerkWh = v.InferOutput<typeof PricePerkWhSchema>;

export const LimitsResSchema = v.strictObject({
  total_power_W: v.optional(v.number()),
  ac_max_current_A: v.optional(v.number()),
  ac_max_phase_count: v.optional(v.pipe(int(), v.minValue(1, "must be at least 1"), v.maxValue(3, "must be at most 3"))),
});
export type LimitsRes = v.InferOutput<typeof LimitsResSchema>;

export const ScheduleResEntrySchema = v.strictObject({
  timestamp: dateTime(),
  limits_to_root: LimitsResSchema,
  price_per_kwh: v.optional(PricePerkWhSchema),
});
export type ScheduleResEntry = v.InferOutput<typeof ScheduleResEntrySchema>;

// Open object upstream: a HEAD energy manager's extra `valid_for` passes, but the missing
// `valid_until` still fails (interface.md §6 item 15).
export const EnforcedLimitsSchema = v.looseObject({
  uuid: v.string(),
  valid_until: dateTime(),
  limits_root_side: v.optional(LimitsResSchema),
  schedule: v.optional(v.array(ScheduleResEntrySchema)),
});
export type EnforcedLimits = v.InferOutput<typeof EnforcedLimitsSchema>;
