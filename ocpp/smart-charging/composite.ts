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

/** The highest stack level of a purpose among entries in force. */
function top(active: readonly PeriodEntry[], purpose: PeriodEntry["purpose"]): PeriodEntry | undefined {
  let best: PeriodEntry | undefined;
  for (const e of active) {
    if (e.purpose !== purpose) continue;
    if (best === undefined || e.stackLevel > best.stackLevel) best = e;
  }
  return best;
}

/** The combined limit at instant `t`, or null when no profile is in force. */
export function levelAt(entries: readonly PeriodEntry[], t: number): Level | null {
  return combine(entries.filter((e) => e.start <= t && e.end > t));
}

function combine(active: readonly PeriodEntry[]): Level | null {
  const base = top(active, "TxProfile") ?? top(active, "TxDefaultProfile");
  const cap = top(active, "ChargePointMaxProfile");
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

/** The level from each boundary in [from, to) on: one sweep over the entries sorted by start, so a
 *  year of a 1440-period daily profile costs a sort, not a scan of every entry per boundary. */
export function levelsFrom(entries: readonly PeriodEntry[], from: number, to: number): { t: number; level: Level | null }[] {
  const byStart = [...entries].sort((a, b) => a.start - b.start);
  let next = 0;
  const active: PeriodEntry[] = [];
  const out: { t: number; level: Level | null }[] = [];
  for (const t of [from, ...boundaries(entries, from, to)]) {
    while (next < byStart.length && byStart[next]!.start <= t) active.push(byStart[next++]!);
    let kept = 0;
    for (const e of active) if (e.end > t) active[kept++] = e;
    active.length = kept;
    out.push({ t, level: combine(active) });
  }
  return out;
}

function pick(e: PeriodEntry): Level {
  return { limitA: e.limitA, numberPhases: e.numberPhases, minChargingRateA: e.minChargingRateA };
}

/** Every instant in (after, before) at which some entry starts or ends, ascending. */
export function boundaries(entries: readonly PeriodEntry[], after: number, before: number): number[] {
  const all = new Float64Array(entries.length * 2);
  let n = 0;
  for (const e of entries) {
    if (e.start > after && e.start < before) all[n++] = e.start;
    if (e.end > after && e.end < before) all[n++] = e.end;
  }
  const sorted = all.subarray(0, n).sort();
  const out: number[] = [];
  for (const t of sorted) if (out.length === 0 || out[out.length - 1] !== t) out.push(t);
  return out;
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
  for (const { t, level } of levelsFrom(entries, o.from, to)) {
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
