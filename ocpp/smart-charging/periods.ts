// One profile → the stretches of time its schedule periods cover (libocpp `calculate_profile`):
// Absolute from `startSchedule`, Recurring from the Daily/Weekly occurrence of `startSchedule`,
// Relative from the transaction start; each stretch cut by the next period, `duration`, the next
// occurrence and `validTo`, and started no earlier than `validFrom`. Limits are turned into amperes
// per phase here so that every later comparison is between like quantities.
import type { ChargingProfile, ChargingProfilePurposeType } from "./types.ts";

export const DEFAULT_NUMBER_PHASES = 3;
export const DEFAULT_SUPPLY_VOLTAGE = 230;
export const SECONDS_PER_DAY = 86_400;
export const SECONDS_PER_WEEK = 7 * SECONDS_PER_DAY;

export interface PeriodEntry {
  /** ms since the epoch, inclusive */
  start: number;
  /** ms since the epoch, exclusive; Infinity when the period lasts forever */
  end: number;
  purpose: ChargingProfilePurposeType;
  stackLevel: number;
  /** A per phase */
  limitA: number;
  numberPhases: number | undefined;
  /** A per phase */
  minChargingRateA: number | undefined;
}

/** OCPP times are whole seconds (the reference floors every instant it reads). */
export function floorSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

export function parseTime(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : floorSeconds(ms);
}

export function recurrenceSeconds(profile: ChargingProfile): number {
  return profile.recurrencyKind === "Weekly" ? SECONDS_PER_WEEK : SECONDS_PER_DAY;
}

/** W → A per phase at `voltage` × phases (phases = numberPhases, else 3). */
export function toAmperes(value: number, unit: "A" | "W", numberPhases: number | undefined, voltage: number): number {
  return unit === "A" ? value : value / (voltage * (numberPhases ?? DEFAULT_NUMBER_PHASES));
}

export interface ExpandOptions {
  /** window start, ms: stretches that end by then are dropped */
  from: number;
  /** window end, ms: stretches that start after it are dropped (bounds the recurrences) */
  to: number;
  /** transaction start (ms) for Relative profiles; null = no transaction */
  sessionStart: number | null;
  voltage: number;
  /** Without a transaction a Relative profile starts "now" whenever it is asked (as the reference
   *  assumes); then only its first period can ever be in force, and it has no boundaries of its own.
   *  `true` expresses that (for enforcement); `false` shows the schedule as if a transaction began
   *  at `from` (for GetCompositeSchedule). */
  relativeWithoutSessionFrozen: boolean;
}

export function expandProfile(profile: ChargingProfile, o: ExpandOptions): PeriodEntry[] {
  const schedule = profile.chargingSchedule;
  const periods = schedule.chargingSchedulePeriod;
  const validFrom = parseTime(profile.validFrom);
  const validTo = parseTime(profile.validTo);
  const entry = (start: number, end: number, index: number): PeriodEntry | null => {
    const p = periods[index]!;
    if (validFrom !== undefined && validFrom > start) start = validFrom;
    if (validTo !== undefined && validTo < end) end = validTo;
    if (!(end > start) || !(end > o.from) || start > o.to) return null;
    return {
      start,
      end,
      purpose: profile.chargingProfilePurpose,
      stackLevel: profile.stackLevel,
      limitA: toAmperes(p.limit, schedule.chargingRateUnit, p.numberPhases, o.voltage),
      numberPhases: p.numberPhases,
      minChargingRateA:
        schedule.minChargingRate === undefined
          ? undefined
          : toAmperes(schedule.minChargingRate, schedule.chargingRateUnit, p.numberPhases, o.voltage),
    };
  };

  if (profile.chargingProfileKind === "Relative" && o.sessionStart === null && o.relativeWithoutSessionFrozen) {
    if (periods.length === 0) return [];
    const e = entry(floorSeconds(o.from), Infinity, 0);
    return e ? [e] : [];
  }

  const anchors = scheduleStarts(profile, o);
  const recurrenceMs = profile.chargingProfileKind === "Recurring" ? recurrenceSeconds(profile) * 1000 : Infinity;
  const out: PeriodEntry[] = [];
  for (const anchor of anchors) {
    for (let i = 0; i < periods.length; i++) {
      let lengthMs = i + 1 < periods.length ? periods[i + 1]!.startPeriod * 1000 : Infinity;
      if (schedule.duration !== undefined) lengthMs = Math.min(lengthMs, schedule.duration * 1000);
      lengthMs = Math.min(lengthMs, recurrenceMs);
      const e = entry(anchor + periods[i]!.startPeriod * 1000, anchor + lengthMs, i);
      if (e) out.push(e);
    }
  }
  return out;
}

/** The instants the schedule (startPeriod 0) begins at that can matter inside the window. */
function scheduleStarts(profile: ChargingProfile, o: ExpandOptions): number[] {
  const startSchedule = parseTime(profile.chargingSchedule.startSchedule);
  switch (profile.chargingProfileKind) {
    case "Absolute":
      return [startSchedule ?? parseTime(profile.validFrom) ?? floorSeconds(o.from)];
    case "Relative":
      return [o.sessionStart !== null ? floorSeconds(o.sessionStart) : floorSeconds(o.from)];
    case "Recurring": {
      if (startSchedule === undefined || profile.recurrencyKind === undefined) return [];
      // The occurrence in force at `from` (the latest one not after it, even before startSchedule,
      // as the reference counts back), then each following one up to the window's end.
      const period = recurrenceSeconds(profile) * 1000;
      const from = floorSeconds(o.from);
      const to = Number.isFinite(o.to) ? o.to : from + period;
      const out: number[] = [];
      for (let s = startSchedule + Math.floor((from - startSchedule) / period) * period; s <= to; s += period) {
        out.push(s);
      }
      return out;
    }
  }
}
