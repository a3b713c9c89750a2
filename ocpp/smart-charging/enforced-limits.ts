// `limitNow` in the kernel's `enforce_limits` shape (interface.md EnforcedLimits, behavior.md §13.2).
import { ABSOLUTE_CURRENT_LIMIT_A } from "../../core/energy-limits.ts";
import type { EnforcedLimits, LimitsRes, ScheduleResEntry } from "../../core/types/index.ts";
import type { ChargingSchedule, LimitNow } from "./types.ts";

/** "No limit" [D-O 8]: once an energy-manager limit exists the kernel has no way to drop it, and an
 *  object without a current or power means 0 A (§13.2 step 4); the largest current it accepts
 *  (step 5) leaves config, hardware and cable to decide. */
export const NO_LIMIT_A = ABSOLUTE_CURRENT_LIMIT_A;

/**
 * @param uuid the EVSE's energy node id (the kernel does not compare it, [Q29])
 * @param forecast optional composite schedule in A (from `composite`), published as the informative
 *   `schedule`
 */
export function toEnforcedLimits(uuid: string, limit: LimitNow, forecast?: ChargingSchedule | null): EnforcedLimits {
  const limits_root_side: LimitsRes = { ac_max_current_A: limit.currentA ?? NO_LIMIT_A };
  if (limit.phases !== null) limits_root_side.ac_max_phase_count = limit.phases;
  const out: EnforcedLimits = { uuid, valid_until: new Date(limit.validUntil).toISOString(), limits_root_side };
  if (forecast && forecast.chargingRateUnit === "A" && forecast.startSchedule !== undefined) {
    const start = Date.parse(forecast.startSchedule);
    out.schedule = forecast.chargingSchedulePeriod.map(
      (p): ScheduleResEntry => ({
        timestamp: new Date(start + p.startPeriod * 1000).toISOString(),
        limits_to_root: {
          ac_max_current_A: p.limit,
          ...(p.numberPhases !== undefined ? { ac_max_phase_count: p.numberPhases } : {}),
        },
      }),
    );
  }
  return out;
}

/** ChargingScheduleAllowedChargingRateUnit ("Current,Power") → units; unknown words are ignored
 *  as the reference does. */
export function parseAllowedChargingRateUnits(value: string): ("A" | "W")[] {
  const out: ("A" | "W")[] = [];
  for (const word of value.split(",").map((w) => w.trim())) {
    if (word === "Current" && !out.includes("A")) out.push("A");
    if (word === "Power" && !out.includes("W")) out.push("W");
  }
  return out;
}
