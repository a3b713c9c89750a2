// Process-wide options of our own (http-api.md "Starting the program"). These stay at the top
// level of the file also when an `evses:` list is given.
import * as v from "valibot";
import { int } from "../types/schema-helpers.ts";
import { AuthOptionsSchema, OcppOptionsSchema } from "./ocpp-options.ts";
import { ControlOptionsSchema, SiteOptionsSchema } from "./site-options.ts";
import { MqttOptionsSchema } from "./mqtt-options.ts";

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

// Signed over-the-air updates (docs/integrators.md). Without a public key updates are refused.
const PUBLIC_KEY = /^(-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----|[A-Za-z0-9+/]{43}=?)$/;
export const UpdateOptionsSchema = v.strictObject({
  public_key: v.optional(
    v.pipe(
      v.string(),
      v.check((s) => PUBLIC_KEY.test(s.trim()), "must be an Ed25519 public key: 32 bytes in base64 (as sign-update prints it) or PEM"),
    ),
  ),
  max_size_mb: v.optional(v.pipe(int(), v.minValue(1, "must be at least 1"), v.maxValue(1024, "must be at most 1024")), 256),
  health_timeout_s: v.optional(v.pipe(int(), v.minValue(1, "must be at least 1"), v.maxValue(600, "must be at most 600")), 30),
});

export const GLOBAL_ENTRIES = {
  api: v.optional(ApiOptionsSchema, () => ({})),
  board: v.optional(v.picklist(["sim", "hid"]), "sim"),
  storage: v.optional(StorageOptionsSchema, () => ({})),
  log_format: v.optional(v.picklist(["text", "json"]), "text"),
  update: v.optional(UpdateOptionsSchema, () => ({})),
  ocpp: v.optional(OcppOptionsSchema, () => ({})),
  auth: v.optional(AuthOptionsSchema, () => ({})),
  control: v.optional(ControlOptionsSchema, () => ({})),
  site: v.optional(SiteOptionsSchema, () => ({})),
  mqtt: v.optional(MqttOptionsSchema, () => ({})),
} as const;

export type GlobalOptionName = keyof typeof GLOBAL_ENTRIES;
export const GLOBAL_OPTION_NAMES = Object.keys(GLOBAL_ENTRIES) as GlobalOptionName[];
