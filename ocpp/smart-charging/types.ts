// OCPP 1.6 JSON shapes this module reads and answers, with the schema's field names verbatim
// (SetChargingProfile.req `csChargingProfiles`, ClearChargingProfile.req, GetCompositeSchedule.conf).
// Plain types on purpose: the OCPP adapter validates frames against the OCPP schemas; this module
// works on already-valid objects and checks only the semantic rules of §5.7.

export type ChargingProfilePurposeType = "ChargePointMaxProfile" | "TxDefaultProfile" | "TxProfile";
export type ChargingProfileKindType = "Absolute" | "Recurring" | "Relative";
export type RecurrencyKindType = "Daily" | "Weekly";
export type ChargingRateUnitType = "A" | "W";

export interface ChargingSchedulePeriod {
  startPeriod: number;
  limit: number;
  numberPhases?: number;
}

export interface ChargingSchedule {
  duration?: number;
  /** date-time */
  startSchedule?: string;
  chargingRateUnit: ChargingRateUnitType;
  chargingSchedulePeriod: ChargingSchedulePeriod[];
  minChargingRate?: number;
}

export interface ChargingProfile {
  chargingProfileId: number;
  transactionId?: number;
  stackLevel: number;
  chargingProfilePurpose: ChargingProfilePurposeType;
  chargingProfileKind: ChargingProfileKindType;
  recurrencyKind?: RecurrencyKindType;
  /** date-time */
  validFrom?: string;
  /** date-time */
  validTo?: string;
  chargingSchedule: ChargingSchedule;
}

export type ChargingProfileStatus = "Accepted" | "Rejected" | "NotSupported";
export type ClearChargingProfileStatus = "Accepted" | "Unknown";

/** ClearChargingProfile.req: every field optional. */
export interface ClearChargingProfileCriteria {
  id?: number;
  connectorId?: number;
  chargingProfilePurpose?: ChargingProfilePurposeType;
  stackLevel?: number;
}

export type GetCompositeScheduleResponse =
  | { status: "Rejected" }
  | { status: "Accepted"; connectorId: number; scheduleStart: string; chargingSchedule: ChargingSchedule };

/** A profile as installed: the connector it was set on (0 = the charge point) and the profile. */
export interface InstalledProfile {
  connectorId: number;
  csChargingProfiles: ChargingProfile;
}

/** Where installed profiles survive a restart (the OCPP adapter backs it with SQLite). */
export interface ProfileStore {
  load(): InstalledProfile[];
  save(profiles: InstalledProfile[]): void;
}

/** The SmartCharging configuration keys (OCPP 1.6 §9.4) and the charger facts the rules need. */
export interface SmartChargingConfig {
  /** ChargeProfileMaxStackLevel */
  maxStackLevel: number;
  /** ChargingScheduleAllowedChargingRateUnit, parsed (`parseAllowedChargingRateUnits`). */
  allowedUnits: readonly ChargingRateUnitType[];
  /** ChargingScheduleMaxPeriods */
  maxPeriods: number;
  /** MaxChargingProfilesInstalled */
  maxProfiles: number;
  /** NumberOfConnectors: connector ids 1…connectors. */
  connectors: number;
  /** What a connector gives with no profile in force (its `max_current_import_A`), per phase. It is only
   *  reported in GetCompositeSchedule for the stretches no profile covers; nothing is enforced there. */
  ratedCurrentA: number;
  /** Volts per phase for W↔A conversion; 230 unless set. */
  supplyVoltage?: number;
}

/** A running transaction as the OCPP adapter knows it (`id` = the CSMS transactionId once known). */
export interface TransactionRef {
  id: number;
  /** ms since the epoch */
  startedAt: number;
}

export interface SmartChargingDeps {
  /** ms since the epoch */
  now(): number;
  store: ProfileStore;
  config: SmartChargingConfig;
  transactionOf(connectorId: number): TransactionRef | null;
}

/** What to enforce on a connector now: `currentA` null = no profile limits it [D-O 8]. */
export interface LimitNow {
  /** A per phase, floored to 0.1 A */
  currentA: number | null;
  /** `numberPhases` of the governing profiles (lowest wins), null when none says */
  phases: 1 | 2 | 3 | null;
  /** ms since the epoch: after the next re-application point, with a margin */
  validUntil: number;
}
