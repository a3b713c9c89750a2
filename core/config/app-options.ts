// Process-wide options of our own (http-api.md "Starting the program"). These stay at the top
// level of the file also when an `evses:` list is given.
import * as v from "valibot";
import { int } from "../types/schema-helpers.ts";

export const ApiOptionsSchema = v.strictObject({
  // An empty token counts as not set (http-api.md); parseConfig drops it.
  token: v.optional(v.string()),
  host: v.optional(v.pipe(v.string(), v.minLength(1, "must not be empty")), "127.0.0.1"),
  port: v.optional(
    v.pipe(int(), v.minValue(0, "must be at least 0"), v.maxValue(65535, "must be at most 65535")),
    8080,
  ),
});

export const StorageOptionsSchema = v.strictObject({
  // ":memory:" keeps nothing.
  path: v.optional(v.pipe(v.string(), v.minLength(1, "must not be empty")), "evse-manager.sqlite"),
});

export const GLOBAL_ENTRIES = {
  api: v.optional(ApiOptionsSchema, () => ({})),
  board: v.optional(v.picklist(["sim", "hid"]), "sim"),
  storage: v.optional(StorageOptionsSchema, () => ({})),
  log_format: v.optional(v.picklist(["text", "json"]), "text"),
} as const;

export type GlobalOptionName = keyof typeof GLOBAL_ENTRIES;
export const GLOBAL_OPTION_NAMES = Object.keys(GLOBAL_ENTRIES) as GlobalOptionName[];
