// types/evse_board_support.yaml and board_support_common.yaml at 2025.1.0 (interface.md §3.3).
import * as v from "valibot";
import { int } from "./schema-helpers.ts";

const phaseCount = () => v.pipe(int(), v.minValue(1, "must be at least 1"), v.maxValue(3, "must be at most 3"));

/** Inline enum of HardwareCapabilities.connector_type (no upstream name). */
export const HardwareConnectorTypeSchema = v.picklist(["IEC62196Type2Cable", "IEC62196Type2Socket"]);
export type HardwareConnectorType = v.InferOutput<typeof HardwareConnectorTypeSchema>;

// 2025.1.0 shape: no supports_cp_state_E (closed ⇒ sending it is invalid).
export const HardwareCapabilitiesSchema = v.strictObject({
  max_current_A_import: v.number(),
  min_current_A_import: v.number(),
  max_phase_count_import: phaseCount(),
  min_phase_count_import: phaseCount(),
  max_current_A_export: v.number(),
  min_current_A_export: v.number(),
  max_phase_count_export: phaseCount(),
  min_phase_count_export: phaseCount(),
  supports_changing_phases_during_charging: v.boolean(),
  connector_type: HardwareConnectorTypeSchema,
  max_plug_temperature_C: v.optional(v.number()),
});
export type HardwareCapabilities = v.InferOutput<typeof HardwareCapabilitiesSchema>;

export const TelemetrySchema = v.strictObject({
  evse_temperature_C: v.number(),
  fan_rpm: v.number(),
  supply_voltage_12V: v.number(),
  supply_voltage_minus_12V: v.number(),
  relais_on: v.boolean(), // upstream spelling
  plug_temperature_C: v.optional(v.number()),
});
export type Telemetry = v.InferOutput<typeof TelemetrySchema>;

/** Inline enum of PowerOnOff.reason (no upstream name). */
export const PowerOnOffReasonSchema = v.picklist(["DCCableCheck", "DCPreCharge", "FullPowerCharging", "PowerOff"]);
export type PowerOnOffReason = v.InferOutput<typeof PowerOnOffReasonSchema>;

export const PowerOnOffSchema = v.strictObject({
  allow_power_on: v.boolean(),
  reason: PowerOnOffReasonSchema,
});
export type PowerOnOff = v.InferOutput<typeof PowerOnOffSchema>;

/** Inline enum of BspEvent.event (no upstream name). */
export const BspEventEnumSchema = v.picklist([
  "A",
  "B",
  "C",
  "D",
  "E",
  "F",
  "PowerOn",
  "PowerOff",
  "EvseReplugStarted",
  "EvseReplugFinished",
  "Disconnected",
]);
export type BspEventEnum = v.InferOutput<typeof BspEventEnumSchema>;

export const BspEventSchema = v.strictObject({ event: BspEventEnumSchema });
export type BspEvent = v.InferOutput<typeof BspEventSchema>;

/** Inline enum of ProximityPilot.ampacity (no upstream name). */
export const AmpacitySchema = v.picklist(["None", "A_13", "A_20", "A_32", "A_63_3ph_70_1ph"]);
export type Ampacity = v.InferOutput<typeof AmpacitySchema>;

export const ProximityPilotSchema = v.strictObject({ ampacity: AmpacitySchema });
export type ProximityPilot = v.InferOutput<typeof ProximityPilotSchema>;

// Open object upstream; not referenced by evse_board_support, kept for the board codecs.
export const BspMeasurementSchema = v.looseObject({
  proximity_pilot: ProximityPilotSchema,
  cp_pwm_duty_cycle: v.number(),
  rcd_current_mA: v.optional(v.number()),
});
export type BspMeasurement = v.InferOutput<typeof BspMeasurementSchema>;
