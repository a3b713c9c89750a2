// types/display_message.yaml at 2025.1.0 (the part reached from evse_manager).
import * as v from "valibot";

export const MessageFormatSchema = v.picklist(["ASCII", "HTML", "URI", "UTF8"]);
export type MessageFormat = v.InferOutput<typeof MessageFormatSchema>;

// Open object upstream (no additionalProperties: false).
export const MessageContentSchema = v.looseObject({
  content: v.string(),
  format: v.optional(MessageFormatSchema),
  language: v.optional(v.string()),
});
export type MessageContent = v.InferOutput<typeof MessageContentSchema>;
