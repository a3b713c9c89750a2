// types/powermeter.yaml at 2025.1.0: the meter reading (var `powermeter`) and the
// powermeter interface's transaction request/answers with their OCMF enums (interface.md §3b).
import * as v from "valibot";
import { dateTime } from "./schema-helpers.ts";
import { TemperatureSchema } from "./temperature.ts";
import { CurrentSchema, EnergySchema, FrequencySchema, PowerSchema, ReactivePowerSchema, VoltageSchema } from "./units.ts";
import {
  SignedCurrentSchema,
  SignedEnergySchema,
  SignedFrequencySchema,
  SignedMeterValueSchema,
  SignedPowerSchema,
  SignedReactivePowerSchema,
  SignedVoltageSchema,
} from "./units_signed.ts";

export const PowermeterSchema = v.strictObject({
  timestamp: dateTime(),
  energy_Wh_import: EnergySchema,
  meter_id: v.optional(v.string()),
  phase_seq_error: v.optional(v.boolean()),
  energy_Wh_export: v.optional(EnergySchema),
  power_W: v.optional(PowerSchema),
  voltage_V: v.optional(VoltageSchema),
  VAR: v.optional(ReactivePowerSchema),
  current_A: v.optional(CurrentSchema),
  frequency_Hz: v.optional(FrequencySchema),
  energy_Wh_import_signed: v.optional(SignedEnergySchema),
  energy_Wh_export_signed: v.optional(SignedEnergySchema),
  power_W_signed: v.optional(SignedPowerSchema),
  voltage_V_signed: v.optional(SignedVoltageSchema),
  VAR_signed: v.optional(SignedReactivePowerSchema),
  current_A_signed: v.optional(SignedCurrentSchema),
  frequency_Hz_signed: v.optional(SignedFrequencySchema),
  signed_meter_value: v.optional(SignedMeterValueSchema),
  temperatures: v.optional(v.array(TemperatureSchema)),
});
export type Powermeter = v.InferOutput<typeof PowermeterSchema>;

export const OCMFUserIdentificationStatusSchema = v.picklist(["ASSIGNED", "NOT_ASSIGNED"]);
export type OCMFUserIdentificationStatus = v.InferOutput<typeof OCMFUserIdentificationStatusSchema>;

export const OCMFIdentificationLevelSchema = v.picklist([
  "NONE",
  "HEARSAY",
  "TRUSTED",
  "VERIFIED",
  "CERTIFIED",
  "SECURE",
  "MISMATCH",
  "INVALID",
  "OUTDATED",
  "UNKNOWN",
]);
export type OCMFIdentificationLevel = v.InferOutput<typeof OCMFIdentificationLevelSchema>;

export const OCMFIdentificationFlagsSchema = v.picklist([
  "RFID_NONE",
  "RFID_PLAIN",
  "RFID_RELATED",
  "RFID_PSK",
  "OCPP_NONE",
  "OCPP_RS",
  "OCPP_AUTH",
  "OCPP_RS_TLS",
  "OCPP_AUTH_TLS",
  "OCPP_CACHE",
  "OCPP_WHITELIST",
  "OCPP_CERTIFIED",
  "ISO15118_NONE",
  "ISO15118_PNC",
  "PLMN_NONE",
  "PLMN_RING",
  "PLMN_SMS",
]);
export type OCMFIdentificationFlags = v.InferOutput<typeof OCMFIdentificationFlagsSchema>;

export const OCMFIdentificationTypeSchema = v.picklist([
  "NONE",
  "DENIED",
  "UNDEFINED",
  "ISO14443",
  "ISO15693",
  "EMAID",
  "EVCCID",
  "EVCOID",
  "ISO7812",
  "CARD_TXN_NR",
  "CENTRAL",
  "CENTRAL_1",
  "CENTRAL_2",
  "LOCAL",
  "LOCAL_1",
  "LOCAL_2",
  "PHONE_NUMBER",
  "KEY_CODE",
]);
export type OCMFIdentificationType = v.InferOutput<typeof OCMFIdentificationTypeSchema>;

export const TransactionReqSchema = v.strictObject({
  evse_id: v.string(),
  transaction_id: v.string(),
  identification_status: OCMFUserIdentificationStatusSchema,
  identification_type: OCMFIdentificationTypeSchema,
  identification_flags: v.pipe(v.array(OCMFIdentificationFlagsSchema), v.maxLength(4, "must have at most 4 items")),
  identification_level: v.optional(OCMFIdentificationLevelSchema),
  identification_data: v.optional(v.string()),
  tariff_text: v.optional(v.pipe(v.string(), v.maxLength(250, "must be at most 250 characters"))),
});
export type TransactionReq = v.InferOutput<typeof TransactionReqSchema>;

export const TransactionRequestStatusSchema = v.picklist(["OK", "NOT_SUPPORTED", "UNEXPECTED_ERROR"]);
export type TransactionRequestStatus = v.InferOutput<typeof TransactionRequestStatusSchema>;

// `status` is declared `type: object` upstream beside a `$ref` to a string enum; the
// validator ignores the sibling, so the payload is the string (interface.md §6 item 1).
export const TransactionStartResponseSchema = v.strictObject({
  status: TransactionRequestStatusSchema,
  error: v.optional(v.string()),
  transaction_min_stop_time: v.optional(dateTime()),
  transaction_max_stop_time: v.optional(dateTime()),
});
export type TransactionStartResponse = v.InferOutput<typeof TransactionStartResponseSchema>;

export const TransactionStopResponseSchema = v.strictObject({
  status: TransactionRequestStatusSchema,
  start_signed_meter_value: v.optional(SignedMeterValueSchema),
  signed_meter_value: v.optional(SignedMeterValueSchema),
  error: v.optional(v.string()),
});
export type TransactionStopResponse = v.InferOutput<typeof TransactionStopResponseSchema>;
