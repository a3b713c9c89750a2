// Stacking (OCPP 1.6 §3.13.2, libocpp `calculate_composite_schedule`): within a purpose the highest
// stackLevel in force wins; a TxProfile in force overrides the TxDefaultProfile; the
// ChargePointMaxProfile caps the result (lower limit per phase, fewer phases). Where nothing is in
// force there is no limit [D-O 8].
import { DEFAULT_NUMBER_PHASES, type PeriodEntry } from "./periods.ts";
import type { ChargingRateUnitType, ChargingSchedule, ChargingSchedulePeriod } from "./types.ts";

export interface Level {
  /** A per phase */
  limitA: number;
  /** undefined when no governing profile names a phase count */
  numberPhases: number | undefined;
  minChargingRateA: number | undefined;
}

function top(entries: readonly PeriodEntry[], purpose: PeriodEntry["purpose"], t: number): PeriodEntry | undefined {
  let best: PeriodEntry | undefined;
  for (const e of entries) {
    if (e.purpose !== purpose || e.start > t || e.end <= t) continue;
    if (best === undefined || e.stackLevel > best.stackLevel) best = e;
  }
  return best;
}

/** The combined limit at instant `t`, or null when no profile is in force. */
export function levelAt(entries: readonly PeriodEntry[], t: number): Level | null {
  const base = top(entries, "TxProfile", t) ?? top(entries, "TxDefaultProfile", t);
  const cap = top(entries, "ChargePointMaxProfile", t);
  if (base === undefined && cap === undefined) return null;
  if (cap === undefined) return pick(base!);
  if (base === undefined) return { ...pick(cap), minChargingRateA: undefined };
  return {
    limitA: Math.min(base.limitA, cap.limitA),
    numberPhases:
      base.numberPhases === undefined && cap.numberPhases === undefined
        ? undefined
        : Math.min(base.numberPhases ?? DEFAULT_NUMBER_PHASES, cap.numberPhases ?? DEFAULT_NUMBER_PHASES),
    minChargingRateA: base.minChargingRateA,
  };
}

function pick(e: PeriodEntry): Level {
  return { limitA: e.limitA, numberPhases: e.numberPhases, minChargingRateA: e.minChargingRateA };
}

/** Every instant in (after, before) at which some entry starts or ends, ascending. */
export function boundaries(entries: readonly PeriodEntry[], after: number, before: number): number[] {
  const set = new Set<number>();
  for (const e of entries) {
    if (e.start > after && e.start < before) set.add(e.start);
    if (e.end > after && e.end < before) set.add(e.end);
  }
  return [...set].sort((a, b) => a - b);
}

/** OCPP `limit` is a multiple of 0.1; rounding down never grants more than the profile. */
export function floorTenth(x: number): number {
  return Math.floor(x * 10 + 1e-6) / 10;
}

export interface CompositeOptions {
  from: number;
  durationS: number;
  unit: ChargingRateUnitType;
  voltage: number;
  /** reported (per phase, 3 phases) where no profile is in force */
  ratedCurrentA: number;
}

/** GetCompositeSchedule's `chargingSchedule` over [from, from + duration): one period per change. */
export function compositeSchedule(entries: readonly PeriodEntry[], o: CompositeOptions): ChargingSchedule {
  const to = o.from + o.durationS * 1000;
  const periods: ChargingSchedulePeriod[] = [];
  let first: Level | null = null;
  for (const t of [o.from, ...boundaries(entries, o.from, to)]) {
    const level = levelAt(entries, t);
    if (t === o.from) first = level;
    const phases = level?.numberPhases ?? DEFAULT_NUMBER_PHASES;
    const limit = inUnit(level?.limitA ?? o.ratedCurrentA, phases, o);
    const last = periods[periods.length - 1];
    if (last && last.limit === limit && last.numberPhases === phases) continue;
    periods.push({ startPeriod: Math.round((t - o.from) / 1000), limit, numberPhases: phases });
  }
  const schedule: ChargingSchedule = {
    duration: o.durationS,
    startSchedule: new Date(o.from).toISOString(),
    chargingRateUnit: o.unit,
    chargingSchedulePeriod: periods,
  };
  if (first?.minChargingRateA !== undefined) {
    schedule.minChargingRate = inUnit(first.minChargingRateA, first.numberPhases ?? DEFAULT_NUMBER_PHASES, o);
  }
  return schedule;
}

function inUnit(amperes: number, phases: number, o: CompositeOptions): number {
  return floorTenth(o.unit === "A" ? amperes : amperes * o.voltage * phases);
}
