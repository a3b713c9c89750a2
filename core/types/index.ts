// Public surface of core/types: one valibot schema per interface.md type (2025.1.0),
// `XSchema` with `type X = v.InferOutput<typeof XSchema>`.
export * from "./schema-helpers.ts";
export * from "./units.ts";
export * from "./units_signed.ts";
export * from "./temperature.ts";
export * from "./powermeter.ts";
export * from "./display_message.ts";
export * from "./iso15118.ts";
export * from "./authorization.ts";
export * from "./energy.ts";
export * from "./board_support.ts";
export * from "./evse_manager.ts";
export * from "./errors.ts";
export * from "./commands.ts";
