// types/iso15118_charger.yaml at 2025.1.0: the four types reachable from evse_manager.
import * as v from "valibot";

const maxLen = (n: number) => v.pipe(v.string(), v.maxLength(n, `must be at most ${n} characters`));

export const CertificateActionEnumSchema = v.picklist(["Install", "Update"]);
export type CertificateActionEnum = v.InferOutput<typeof CertificateActionEnumSchema>;

export const RequestExiStreamSchemaSchema = v.strictObject({
  exi_request: maxLen(5600),
  iso15118_schema_version: maxLen(50),
  certificate_action: CertificateActionEnumSchema,
});
export type RequestExiStreamSchema = v.InferOutput<typeof RequestExiStreamSchemaSchema>;

/** Inline enum of ResponseExiStreamStatus.status (no upstream name). */
export const ResponseExiStreamStatusEnumSchema = v.picklist(["Accepted", "Failed"]);
export type ResponseExiStreamStatusEnum = v.InferOutput<typeof ResponseExiStreamStatusEnumSchema>;

export const ResponseExiStreamStatusSchema = v.strictObject({
  status: ResponseExiStreamStatusEnumSchema,
  certificate_action: CertificateActionEnumSchema,
  exi_response: v.optional(maxLen(5600)),
});
export type ResponseExiStreamStatus = v.InferOutput<typeof ResponseExiStreamStatusSchema>;

/** Inline enum of CertificateHashDataInfo.hashAlgorithm (no upstream name). */
export const HashAlgorithmSchema = v.picklist(["SHA256", "SHA384", "SHA512"]);
export type HashAlgorithm = v.InferOutput<typeof HashAlgorithmSchema>;

export const CertificateHashDataInfoSchema = v.strictObject({
  hashAlgorithm: HashAlgorithmSchema,
  issuerNameHash: maxLen(128),
  issuerKeyHash: maxLen(128),
  serialNumber: maxLen(40),
  responderURL: maxLen(512),
});
export type CertificateHashDataInfo = v.InferOutput<typeof CertificateHashDataInfoSchema>;
