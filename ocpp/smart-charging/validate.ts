// SetChargingProfile's semantic checks, in the reference's order (libocpp `validate_profile` and
// `validate_schedule`). Each returns why the profile is refused, or null when it may be installed.
import { DEFAULT_NUMBER_PHASES, parseTime } from "./periods.ts";
import type { ChargingProfile, SmartChargingConfig, TransactionRef } from "./types.ts";

export interface ValidationContext {
  config: SmartChargingConfig;
  /** profiles installed once this one has replaced those it replaces */
  installedAfterReplace: number;
  transaction: TransactionRef | null;
  /** RemoteStartTransaction: the transaction does not exist yet [D-O 6] */
  forRemoteStart: boolean;
}

export function profileRejection(connectorId: number, p: ChargingProfile, c: ValidationContext): string | null {
  const s = p.chargingSchedule;
  if (!Number.isInteger(connectorId) || connectorId < 0 || connectorId > c.config.connectors) {
    return `connectorId ${connectorId} does not exist`;
  }
  if (!Number.isInteger(p.stackLevel) || p.stackLevel < 0 || p.stackLevel > c.config.maxStackLevel) {
    return `stackLevel ${p.stackLevel} is outside 0…${c.config.maxStackLevel} (ChargeProfileMaxStackLevel)`;
  }
  if (p.chargingProfileKind === "Absolute" && s.startSchedule === undefined) {
    return "an Absolute profile needs chargingSchedule.startSchedule";
  }
  for (const [field, value] of [
    ["validFrom", p.validFrom],
    ["validTo", p.validTo],
    ["chargingSchedule.startSchedule", s.startSchedule],
  ] as const) {
    if (value !== undefined && parseTime(value) === undefined) return `${field} is not a date-time`;
  }
  if (c.installedAfterReplace >= c.config.maxProfiles) {
    return `${c.config.maxProfiles} profiles are installed (MaxChargingProfilesInstalled)`;
  }
  const scheduleProblem = scheduleRejection(p, c.config);
  if (scheduleProblem) return scheduleProblem;
  if (p.chargingProfileKind === "Recurring") {
    if (p.recurrencyKind === undefined) return "a Recurring profile needs recurrencyKind";
    if (s.startSchedule === undefined) return "a Recurring profile needs chargingSchedule.startSchedule";
  }
  switch (p.chargingProfilePurpose) {
    case "ChargePointMaxProfile":
      if (connectorId !== 0) return "a ChargePointMaxProfile is set on connector 0 only";
      if (p.chargingProfileKind === "Relative") return "a ChargePointMaxProfile cannot be Relative";
      return null;
    case "TxDefaultProfile":
      return null;
    case "TxProfile":
      if (connectorId === 0) return "a TxProfile needs a connector, not 0";
      if (c.forRemoteStart) return null;
      if (c.transaction === null) return `no transaction runs on connector ${connectorId}`;
      if (p.transactionId !== undefined && p.transactionId !== c.transaction.id) {
        return `transactionId ${p.transactionId} is not the transaction on connector ${connectorId} (${c.transaction.id})`;
      }
      return null;
  }
}

function scheduleRejection(p: ChargingProfile, config: SmartChargingConfig): string | null {
  const s = p.chargingSchedule;
  const periods = s.chargingSchedulePeriod;
  if (periods.length > config.maxPeriods) {
    return `${periods.length} periods exceed ChargingScheduleMaxPeriods (${config.maxPeriods})`;
  }
  if (!config.allowedUnits.includes(s.chargingRateUnit)) {
    return `chargingRateUnit ${s.chargingRateUnit} is not allowed (ChargingScheduleAllowedChargingRateUnit)`;
  }
  // The reference accepts these and then skips the periods it cannot place; refusing says so at once.
  if (periods.length === 0) return "chargingSchedulePeriod is empty";
  for (const [i, period] of periods.entries()) {
    const where = `chargingSchedulePeriod[${i}]`;
    if (
      period.numberPhases !== undefined &&
      (!Number.isInteger(period.numberPhases) || period.numberPhases < 1 || period.numberPhases > DEFAULT_NUMBER_PHASES)
    ) {
      return `${where}.numberPhases ${period.numberPhases} is outside 1…3`;
    }
    if (!(period.limit >= 0)) return `${where}.limit ${period.limit} is negative`;
    if (i === 0 && period.startPeriod !== 0) return `${where}.startPeriod must be 0`;
    if (i > 0 && !(period.startPeriod > periods[i - 1]!.startPeriod)) {
      return `${where}.startPeriod must be after the previous period's`;
    }
  }
  if (s.duration !== undefined && !(s.duration >= 0)) return `chargingSchedule.duration ${s.duration} is negative`;
  return null;
}
