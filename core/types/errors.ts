// The framework's error object (interface.md §0, everest-framework v0.20.2 serializer).
import * as v from "valibot";
import { dateTime, int } from "./schema-helpers.ts";

export const ErrorSeveritySchema = v.picklist(["Low", "Medium", "High"]);
export type ErrorSeverityValue = v.InferOutput<typeof ErrorSeveritySchema>;

export const ErrorStateSchema = v.picklist(["Active", "ClearedByModule", "ClearedByReboot"]);
export type ErrorState = v.InferOutput<typeof ErrorStateSchema>;

export const ErrorObjectSchema = v.strictObject({
  type: v.string(), // "<list>/<Name>"
  sub_type: v.string(),
  message: v.string(),
  description: v.string(),
  origin: v.strictObject({
    module_id: v.string(),
    implementation_id: v.string(),
    mapping: v.optional(v.strictObject({ evse: int(), connector: v.optional(int()) })),
  }),
  severity: ErrorSeveritySchema,
  timestamp: dateTime(),
  uuid: v.string(),
  state: ErrorStateSchema,
  vendor_id: v.string(),
});
export type ErrorObject = v.InferOutput<typeof ErrorObjectSchema>;

/** One item of GET /api/v1/evses/{i}/errors (http-api.md). */
export const ActiveErrorSchema = v.strictObject({
  type: v.string(),
  sub_type: v.string(),
  message: v.string(),
  severity: ErrorSeveritySchema,
  state: v.literal("Active"),
  timestamp: dateTime(),
  uuid: v.string(),
});
