// Local control (integration.md §2) and site load balancing (§6): process-wide options, at the
// top level of the file also when an `evses:` list is given.
import * as v from "valibot";
import { int } from "../types/schema-helpers.ts";

/** 0 pauses; anything else must be an offer an EV can take (IEC 61851-1 minimum 6 A). */
const zeroOrAtLeast6 = v.check<number, string>((a) => a === 0 || a >= 6, "must be 0 (pause) or at least 6");

export const ControlOptionsSchema = v.strictObject({
  /** Priority of the `LocalAPI` row in the enable/disable table (0 highest … 10000 lowest). */
  enable_priority: v.optional(v.pipe(int(), v.minValue(0, "must be at least 0"), v.maxValue(10000, "must be at most 10000")), 100),
  /** > 0: a local limit not refreshed by a PUT …/control within this time falls back. 0 = off. */
  failsafe_timeout_s: v.optional(v.pipe(v.number(), v.minValue(0, "must be at least 0")), 0),
  failsafe_current_A: v.optional(v.pipe(v.number(), v.minValue(0, "must be at least 0"), zeroOrAtLeast6), 6),
});
export type ControlOptions = v.InferOutput<typeof ControlOptionsSchema>;

export const SiteOptionsSchema = v.strictObject({
  /** Per phase, the supply fuse shared by every EVSE of the process; absent = no site limit. */
  max_current_A: v.optional(v.pipe(v.number(), v.minValue(6, "must be at least 6 (one EVSE's minimum offer)"), v.maxValue(10000, "must be at most 10000"))),
  /** A site meter for the load; none is supported yet (integration.md §6), so only `none` (or
   *  null) is accepted: the load is the sum of the EVSEs' own meters. */
  meter: v.optional(v.nullable(v.picklist(["none"], 'must be "none": no site meter is supported yet (the load is the sum of the EVSEs\' own meters)'))),
});
export type SiteOptions = v.InferOutput<typeof SiteOptionsSchema>;

export function defaultControlOptions(): ControlOptions {
  return v.parse(ControlOptionsSchema, {});
}
