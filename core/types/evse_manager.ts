// types/evse_manager.yaml at 2025.1.0 (interface.md §2.1).
import * as v from "valibot";
import { ProvidedIdTokenSchema } from "./authorization.ts";
import { PowermeterSchema } from "./powermeter.ts";
import { dateTime, int } from "./schema-helpers.ts";
import { SignedMeterValueSchema } from "./units_signed.ts";

// 22 values at the tag (no cMCS).
export const ConnectorTypeEnumSchema = v.picklist([
  "cCCS1",
  "cCCS2",
  "cG105",
  "cTesla",
  "cType1",
  "cType2",
  "s309_1P_16A",
  "s309_1P_32A",
  "s309_3P_16A",
  "s309_3P_32A",
  "sBS1361",
  "sCEE_7_7",
  "sType2",
  "sType3",
  "Other1PhMax16A",
  "Other1PhOver16A",
  "Other3Ph",
  "Pan",
  "wInductive",
  "wResonant",
  "Undetermined",
  "Unknown",
]);
export type ConnectorTypeEnum = v.InferOutput<typeof ConnectorTypeEnumSchema>;

export const ConnectorSchema = v.strictObject({
  id: v.pipe(int(), v.minValue(1, "must be at least 1")),
  type: v.optional(ConnectorTypeEnumSchema),
});
export type Connector = v.InferOutput<typeof ConnectorSchema>;

// Open object upstream.
export const EvseSchema = v.looseObject({
  id: v.pipe(int(), v.minValue(1, "must be at least 1"), v.maxValue(128, "must be at most 128")),
  connectors: v.pipe(
    v.array(ConnectorSchema),
    v.minLength(1, "must have at least 1 item"),
    v.maxLength(128, "must have at most 128 items"),
  ),
});
export type Evse = v.InferOutput<typeof EvseSchema>;

/** Inline enum EnableDisableSource.enable_source (C++ generator: Enable_source). */
export const EnableSourceSchema = v.picklist([
  "Unspecified",
  "LocalAPI",
  "LocalKeyLock",
  "ServiceTechnician",
  "RemoteKeyLock",
  "MobileApp",
  "FirmwareUpdate",
  "CSMS",
]);
export type EnableSource = v.InferOutput<typeof EnableSourceSchema>;

/** Inline enum EnableDisableSource.enable_state (C++ generator: Enable_state). */
export const EnableStateSchema = v.picklist(["Unassigned", "Disable", "Enable"]);
export type EnableState = v.InferOutput<typeof EnableStateSchema>;

// Open object upstream.
export const EnableDisableSourceSchema = v.looseObject({
  enable_source: EnableSourceSchema,
  enable_state: EnableStateSchema,
  enable_priority: v.pipe(int(), v.minValue(0, "must be at least 0"), v.maxValue(10000, "must be at most 10000")),
});
export type EnableDisableSource = v.InferOutput<typeof EnableDisableSourceSchema>;

// 21 values at the tag (no ReqEnergyTransferRejected).
export const StopTransactionReasonSchema = v.picklist([
  "EmergencyStop",
  "EVDisconnected",
  "HardReset",
  "Local",
  "Other",
  "PowerLoss",
  "Reboot",
  "Remote",
  "SoftReset",
  "UnlockCommand",
  "DeAuthorized",
  "EnergyLimitReached",
  "GroundFault",
  "LocalOutOfCredit",
  "MasterPass",
  "OvercurrentFault",
  "PowerQuality",
  "SOCLimitReached",
  "StoppedByEV",
  "TimeLimitReached",
  "Timeout",
]);
export type StopTransactionReason = v.InferOutput<typeof StopTransactionReasonSchema>;

// Open object upstream.
export const StopTransactionRequestSchema = v.looseObject({
  reason: StopTransactionReasonSchema,
  id_tag: v.optional(ProvidedIdTokenSchema),
});
export type StopTransactionRequest = v.InferOutput<typeof StopTransactionRequestSchema>;

export const StartSessionReasonSchema = v.picklist(["EVConnected", "Authorized"]);
export type StartSessionReason = v.InferOutput<typeof StartSessionReasonSchema>;

// 24 values at the tag.
export const SessionEventEnumSchema = v.picklist([
  "Authorized",
  "Deauthorized",
  "Enabled",
  "Disabled",
  "SessionStarted",
  "AuthRequired",
  "TransactionStarted",
  "PrepareCharging",
  "ChargingStarted",
  "ChargingPausedEV",
  "ChargingPausedEVSE",
  "WaitingForEnergy",
  "ChargingResumed",
  "StoppingCharging",
  "ChargingFinished",
  "TransactionFinished",
  "SessionFinished",
  "ReservationStart",
  "ReservationEnd",
  "ReplugStarted",
  "ReplugFinished",
  "PluginTimeout",
  "SwitchingPhases",
  "SessionResumed",
]);
export type SessionEventEnum = v.InferOutput<typeof SessionEventEnumSchema>;

export const SessionStartedSchema = v.strictObject({
  reason: StartSessionReasonSchema,
  meter_value: PowermeterSchema,
  id_tag: v.optional(ProvidedIdTokenSchema),
  signed_meter_value: v.optional(SignedMeterValueSchema),
  reservation_id: v.optional(int()),
  logging_path: v.optional(v.string()),
});
export type SessionStarted = v.InferOutput<typeof SessionStartedSchema>;

export const SessionFinishedSchema = v.strictObject({ meter_value: PowermeterSchema });
export type SessionFinished = v.InferOutput<typeof SessionFinishedSchema>;

export const TransactionStartedSchema = v.strictObject({
  id_tag: ProvidedIdTokenSchema,
  meter_value: PowermeterSchema,
  signed_meter_value: v.optional(SignedMeterValueSchema),
  reservation_id: v.optional(int()),
});
export type TransactionStarted = v.InferOutput<typeof TransactionStartedSchema>;

export const TransactionFinishedSchema = v.strictObject({
  meter_value: PowermeterSchema,
  start_signed_meter_value: v.optional(SignedMeterValueSchema),
  signed_meter_value: v.optional(SignedMeterValueSchema),
  reason: v.optional(StopTransactionReasonSchema),
  id_tag: v.optional(ProvidedIdTokenSchema),
});
export type TransactionFinished = v.InferOutput<typeof TransactionFinishedSchema>;

export const ChargingStateChangedEventSchema = v.strictObject({ meter_value: PowermeterSchema });
export type ChargingStateChangedEvent = v.InferOutput<typeof ChargingStateChangedEventSchema>;

export const AuthorizationEventSchema = v.strictObject({ meter_value: PowermeterSchema });
export type AuthorizationEvent = v.InferOutput<typeof AuthorizationEventSchema>;

// Closed: no charging_paused_evse at the tag.
export const SessionEventSchema = v.strictObject({
  uuid: v.string(),
  event: SessionEventEnumSchema,
  timestamp: dateTime(),
  connector_id: v.optional(int()),
  session_started: v.optional(SessionStartedSchema),
  session_finished: v.optional(SessionFinishedSchema),
  transaction_started: v.optional(TransactionStartedSchema),
  transaction_finished: v.optional(TransactionFinishedSchema),
  charging_state_changed_event: v.optional(ChargingStateChangedEventSchema),
  authorization_event: v.optional(AuthorizationEventSchema),
  source: v.optional(EnableDisableSourceSchema),
});
export type SessionEvent = v.InferOutput<typeof SessionEventSchema>;

export const LimitsSchema = v.strictObject({
  uuid: v.optional(v.string()),
  max_current: v.number(), // A
  nr_of_phases_available: v.pipe(int(), v.minValue(1, "must be at least 1"), v.maxValue(3, "must be at most 3")),
});
export type Limits = v.InferOutput<typeof LimitsSchema>;

const percent = () =>
  v.optional(v.pipe(v.number(), v.minValue(0, "must be at least 0"), v.maxValue(100, "must be at most 100")));

// Closed, all optional, 17 properties at the tag (HEAD-only fields are invalid here).
export const EVInfoSchema = v.strictObject({
  soc: percent(),
  present_voltage: v.optional(v.number()),
  present_current: v.optional(v.number()),
  target_voltage: v.optional(v.number()),
  target_current: v.optional(v.number()),
  maximum_current_limit: v.optional(v.number()),
  minimum_current_limit: v.optional(v.number()),
  maximum_voltage_limit: v.optional(v.number()),
  maximum_power_limit: v.optional(v.number()),
  estimated_time_full: v.optional(dateTime()),
  departure_time: v.optional(dateTime()),
  estimated_time_bulk: v.optional(dateTime()),
  evcc_id: v.optional(
    v.pipe(v.string(), v.regex(/^[A-Fa-f0-9]{2}(:[A-Fa-f0-9]{2}){5}$/, "must be a colon-separated MAC address")),
  ),
  remaining_energy_needed: v.optional(v.number()),
  battery_capacity: v.optional(v.number()),
  battery_full_soc: percent(),
  battery_bulk_soc: percent(),
});
export type EVInfo = v.InferOutput<typeof EVInfoSchema>;

export const CarManufacturerSchema = v.picklist(["VolkswagenGroup", "Tesla", "Unknown"]);
export type CarManufacturer = v.InferOutput<typeof CarManufacturerSchema>;

/** Not referenced by the interface; kept for completeness of the file. */
export const SwitchThreePhasesWhileChargingResultSchema = v.picklist([
  "Success",
  "Error_NotSupported",
  "Error_NotCharging",
  "Error_Hardware",
]);
export type SwitchThreePhasesWhileChargingResult = v.InferOutput<typeof SwitchThreePhasesWhileChargingResultSchema>;
