// The seam between the OCPP adapter and the smart-charging logic (ocpp.md §5.7). The adapter
// validates messages against the OCPP schemas and calls this port; the port owns the profile
// store, stacking and the composite schedule, and says when a connector's limit changes so the
// adapter can apply it through the kernel's enforce_limits. ocpp/smart-charging-minimal.ts is a
// small stand-in until the full module (ocpp/smart-charging/) takes its place.

/** OCPP 1.6 ChargingProfile (csChargingProfiles), as received (already schema-valid). */
export interface ChargingProfile {
  chargingProfileId: number;
  transactionId?: number;
  stackLevel: number;
  chargingProfilePurpose: "ChargePointMaxProfile" | "TxDefaultProfile" | "TxProfile";
  chargingProfileKind: "Absolute" | "Recurring" | "Relative";
  recurrencyKind?: "Daily" | "Weekly";
  validFrom?: string;
  validTo?: string;
  chargingSchedule: ChargingSchedule;
}

export interface ChargingSchedule {
  duration?: number;
  startSchedule?: string;
  chargingRateUnit: "A" | "W";
  chargingSchedulePeriod: { startPeriod: number; limit: number; numberPhases?: number }[];
  minChargingRate?: number;
}

export interface ClearCriteria {
  id?: number;
  connectorId?: number;
  chargingProfilePurpose?: ChargingProfile["chargingProfilePurpose"];
  stackLevel?: number;
}

/** What applies on a connector now: a current (A) limit or none [D-O 8], the phase count, until when. */
export interface AppliedLimit {
  /** null: no profile applies, so no limit. */
  ampere: number | null;
  phases: number | null;
  /** ms since the epoch of the next period boundary, null when nothing changes later. */
  nextChangeAt: number | null;
}

export interface SmartChargingPort {
  /** SetChargingProfile. `transactionId` is the CSMS id of the connector's running transaction, if any. */
  set(connectorId: number, profile: ChargingProfile, transactionId: number | null): "Accepted" | "Rejected" | "NotSupported";
  clear(criteria: ClearCriteria): "Accepted" | "Unknown";
  /** GetCompositeSchedule: null when nothing can be said (unknown connector). */
  composite(connectorId: number, durationS: number, unit: "A" | "W" | undefined, now: number): ChargingSchedule & { startSchedule: string } | null;
  /** The limit to apply on a connector at `now`. */
  limitAt(connectorId: number, now: number, transactionId: number | null): AppliedLimit;
  /** A transaction ended (or a session without one): its TxProfiles are removed. */
  transactionEnded(connectorId: number): void;
  /** RemoteStartTransaction's TxProfile [D-O 6]: in force from the start of the next transaction on
   *  the connector, before its transactionId is known; set() binds it (same chargingProfileId) once it is. */
  applyAtTransactionStart(connectorId: number, profile: ChargingProfile): void;
}
