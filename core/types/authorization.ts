// types/authorization.yaml at 2025.1.0 (the part reached from evse_manager).
import * as v from "valibot";
import { MessageContentSchema } from "./display_message.ts";
import { CertificateHashDataInfoSchema } from "./iso15118.ts";
import { dateTime, int } from "./schema-helpers.ts";

const maxLen = (n: number) => v.pipe(v.string(), v.maxLength(n, `must be at most ${n} characters`));

export const IdTokenTypeSchema = v.picklist([
  "Central",
  "eMAID",
  "MacAddress",
  "ISO14443",
  "ISO15693",
  "KeyCode",
  "Local",
  "NoAuthorization",
]);
export type IdTokenType = v.InferOutput<typeof IdTokenTypeSchema>;

export const AuthorizationTypeSchema = v.picklist(["OCPP", "RFID", "Autocharge", "PlugAndCharge", "BankCard"]);
export type AuthorizationType = v.InferOutput<typeof AuthorizationTypeSchema>;

export const AuthorizationStatusSchema = v.picklist([
  "Accepted",
  "Blocked",
  "ConcurrentTx",
  "Expired",
  "Invalid",
  "NoCredit",
  "NotAllowedTypeEVSE",
  "NotAtThisLocation",
  "NotAtThisTime",
  "Unknown",
]);
export type AuthorizationStatus = v.InferOutput<typeof AuthorizationStatusSchema>;

export const CertificateStatusSchema = v.picklist([
  "Accepted",
  "SignatureError",
  "CertificateExpired",
  "CertificateRevoked",
  "NoCertificateAvailable",
  "CertChainError",
  "ContractCancelled",
]);
export type CertificateStatus = v.InferOutput<typeof CertificateStatusSchema>;

export const TokenValidationStatusSchema = v.picklist(["Processing", "Accepted", "Rejected", "TimedOut"]);
export type TokenValidationStatus = v.InferOutput<typeof TokenValidationStatusSchema>;

export const CustomIdTokenSchema = v.strictObject({
  value: maxLen(36),
  type: maxLen(50),
});
export type CustomIdToken = v.InferOutput<typeof CustomIdTokenSchema>;

export const IdTokenSchema = v.strictObject({
  value: maxLen(36),
  type: IdTokenTypeSchema,
  additional_info: v.optional(v.array(CustomIdTokenSchema)),
});
export type IdToken = v.InferOutput<typeof IdTokenSchema>;

export const ProvidedIdTokenSchema = v.strictObject({
  id_token: IdTokenSchema,
  // Upstream also puts minLength 2 / maxLength 32 beside the $ref; the framework validator
  // ignores them (interface.md §6 item 2) and every enum value satisfies them anyway.
  authorization_type: AuthorizationTypeSchema,
  request_id: v.optional(int()),
  parent_id_token: v.optional(IdTokenSchema),
  connectors: v.optional(v.array(v.pipe(int(), v.minValue(1, "must be at least 1")))),
  prevalidated: v.optional(v.boolean()),
  certificate: v.optional(maxLen(5500)),
  iso15118CertificateHashData: v.optional(
    v.pipe(
      v.array(CertificateHashDataInfoSchema),
      v.minLength(1, "must have at least 1 item"),
      v.maxLength(4, "must have at most 4 items"),
    ),
  ),
});
export type ProvidedIdToken = v.InferOutput<typeof ProvidedIdTokenSchema>;

export const TokenValidationStatusMessageSchema = v.strictObject({
  token: ProvidedIdTokenSchema,
  status: TokenValidationStatusSchema,
  messages: v.optional(v.array(MessageContentSchema)),
});
export type TokenValidationStatusMessage = v.InferOutput<typeof TokenValidationStatusMessageSchema>;

// At the tag: no tariff_messages, no allowed_energy_transfer_modes (closed ⇒ they are invalid).
export const ValidationResultSchema = v.strictObject({
  authorization_status: AuthorizationStatusSchema,
  certificate_status: v.optional(CertificateStatusSchema),
  reason: v.optional(TokenValidationStatusMessageSchema),
  expiry_time: v.optional(dateTime()),
  parent_id_token: v.optional(IdTokenSchema),
  evse_ids: v.optional(v.array(v.pipe(int(), v.minValue(1, "must be at least 1")))),
  reservation_id: v.optional(int()),
});
export type ValidationResult = v.InferOutput<typeof ValidationResultSchema>;
