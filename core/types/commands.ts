// The evse_manager interface surface at 2025.1.0 (interface.md §1): argument objects of the
// 13 commands, their results, and the values of the 14 variables. Every declared argument
// is mandatory and an undeclared one is refused (interface.md §0, http-api.md).
import * as v from "valibot";
import type { CommandName, VariableName } from "../kernel-api.ts";
import { ProvidedIdTokenSchema, ValidationResultSchema } from "./authorization.ts";
import { HardwareCapabilitiesSchema, TelemetrySchema } from "./board_support.ts";
import { EnforcedLimitsSchema } from "./energy.ts";
import {
  CarManufacturerSchema,
  EnableDisableSourceSchema,
  EVInfoSchema,
  EvseSchema,
  LimitsSchema,
  SessionEventSchema,
  StopTransactionRequestSchema,
} from "./evse_manager.ts";
import { RequestExiStreamSchemaSchema, ResponseExiStreamStatusSchema } from "./iso15118.ts";
import { PowermeterSchema } from "./powermeter.ts";
import { int } from "./schema-helpers.ts";

const none = v.strictObject({});

export const COMMAND_ARGS = {
  get_evse: none,
  enable_disable: v.strictObject({ connector_id: int(), cmd_source: EnableDisableSourceSchema }),
  authorize_response: v.strictObject({ provided_token: ProvidedIdTokenSchema, validation_result: ValidationResultSchema }),
  withdraw_authorization: none,
  reserve: v.strictObject({ reservation_id: int() }), // negative = global reservation (§6 item 13)
  cancel_reservation: none,
  set_faulted: none,
  pause_charging: none,
  resume_charging: none,
  stop_transaction: v.strictObject({ request: StopTransactionRequestSchema }),
  force_unlock: v.strictObject({ connector_id: int() }),
  set_get_certificate_response: v.strictObject({ certificate_response: ResponseExiStreamStatusSchema }),
  external_ready_to_start_charging: none,
} as const satisfies Record<CommandName, v.GenericSchema>;

export type CommandArgs = { [K in CommandName]: v.InferOutput<(typeof COMMAND_ARGS)[K]> };

/** Result of each command; `v.null()` for the commands without a declared result. */
export const COMMAND_RESULTS = {
  get_evse: EvseSchema,
  enable_disable: v.boolean(),
  authorize_response: v.null(),
  withdraw_authorization: v.null(),
  reserve: v.boolean(),
  cancel_reservation: v.null(),
  set_faulted: v.null(),
  pause_charging: v.boolean(),
  resume_charging: v.boolean(),
  stop_transaction: v.boolean(),
  force_unlock: v.boolean(),
  set_get_certificate_response: v.null(),
  external_ready_to_start_charging: v.boolean(),
} as const satisfies Record<CommandName, v.GenericSchema>;

export type CommandResults = { [K in CommandName]: v.InferOutput<(typeof COMMAND_RESULTS)[K]> };

export const VARIABLE_SCHEMAS = {
  session_event: SessionEventSchema,
  limits: LimitsSchema,
  ev_info: EVInfoSchema,
  car_manufacturer: CarManufacturerSchema,
  telemetry: TelemetrySchema,
  powermeter: PowermeterSchema,
  powermeter_public_key_ocmf: v.string(),
  evse_id: v.string(),
  hw_capabilities: HardwareCapabilitiesSchema,
  iso15118_certificate_request: RequestExiStreamSchemaSchema,
  enforced_limits: EnforcedLimitsSchema,
  waiting_for_external_ready: v.boolean(),
  ready: v.boolean(),
  selected_protocol: v.string(),
} as const satisfies Record<VariableName, v.GenericSchema>;

export type VariableValues = { [K in VariableName]: v.InferOutput<(typeof VARIABLE_SCHEMAS)[K]> };
