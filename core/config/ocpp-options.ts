// `ocpp.*` and `auth.*` (ocpp.md §1): the CSMS connection and the token front end. Without
// `ocpp.central_system_url` no OCPP connection is made.
import * as v from "valibot";
import { dateTime, int } from "../types/schema-helpers.ts";
import { canonicalKey, keyValue, OCPP_KEYS } from "./ocpp-keys.ts";

const scalar = v.union([v.string(), v.number(), v.boolean()], "must be a string, a number or true/false");

/** `ocpp.configuration`: initial values of OCPP configuration keys, each checked against §7. */
const ConfigurationSchema = v.pipe(
  v.record(v.string(), scalar),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const out: Record<string, string> = {};
    for (const [name, raw] of Object.entries(dataset.value)) {
      const key = canonicalKey(name);
      const path = [{ type: "object", origin: "value", input: dataset.value, key: name, value: raw }] as const;
      if (key === null) {
        addIssue({ message: "is not an OCPP configuration key this charge point knows", path: [...path] as never });
        continue;
      }
      const def = OCPP_KEYS[key]!;
      if (def.computed) {
        addIssue({ message: "is set by the program and cannot be configured", path: [...path] as never });
        continue;
      }
      const max = def.maxLengthKey ? Number(OCPP_KEYS[def.maxLengthKey]!.default) : Infinity;
      const result = keyValue(def, String(raw), max);
      if ("error" in result) addIssue({ message: result.error, path: [...path] as never });
      else out[key] = result.value;
    }
    return Object.keys(out).length === Object.keys(dataset.value).length ? out : NEVER;
  }),
);

const URL_RE = /^wss?:\/\/[^\s/]+(\/[^\s]*)?$/;

export const OcppOptionsSchema = v.pipe(
  v.strictObject({
    central_system_url: v.optional(v.pipe(v.string(), v.check((s) => s === "" || URL_RE.test(s), "must be a ws:// or wss:// URL"))),
    charge_point_id: v.optional(
      v.pipe(v.string(), v.maxLength(48, "must be at most 48 characters"), v.regex(/^[A-Za-z0-9*\-_=:+|@.]*$/, "may only hold letters, digits and *-_=:+|@.")),
    ),
    security_profile: v.optional(v.picklist([0, 1, 2, 3], "must be 0, 1, 2 or 3"), 0),
    authorization_key: v.optional(v.string(), ""),
    ca_file: v.optional(v.string(), ""),
    client_cert_file: v.optional(v.string(), ""),
    client_key_file: v.optional(v.string(), ""),
    vendor: v.optional(v.pipe(v.string(), v.minLength(1, "must not be empty"), v.maxLength(20, "must be at most 20 characters")), "evse-manager"),
    model: v.optional(v.pipe(v.string(), v.minLength(1, "must not be empty"), v.maxLength(20, "must be at most 20 characters")), "evse-manager"),
    serial_number: v.optional(v.pipe(v.string(), v.maxLength(25, "must be at most 25 characters")), ""),
    configuration: v.optional(ConfigurationSchema, () => ({})),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const o = dataset.value;
    const at = (key: string) => [{ type: "object", origin: "value", input: o, key, value: (o as Record<string, unknown>)[key] }] as never;
    if (!o.central_system_url) return;
    if (!o.charge_point_id) addIssue({ message: "is required with ocpp.central_system_url", path: at("charge_point_id") });
    const tls = o.central_system_url.startsWith("wss://");
    if (o.security_profile >= 2 && !tls) addIssue({ message: `security profile ${o.security_profile} needs a wss:// URL`, path: at("central_system_url") });
    if (o.security_profile <= 1 && tls && o.security_profile !== 0) addIssue({ message: "security profile 1 is basic auth over ws://; use 2 for wss://", path: at("security_profile") });
    if ((o.security_profile === 1 || o.security_profile === 2) && o.authorization_key.length === 0) {
      addIssue({ message: "is required for security profiles 1 and 2 (the basic-auth password)", path: at("authorization_key") });
    }
    if (o.security_profile === 3 && (!o.client_cert_file || !o.client_key_file)) {
      addIssue({ message: "security profile 3 needs client_cert_file and client_key_file", path: at(o.client_cert_file ? "client_key_file" : "client_cert_file") });
    }
  }),
);
export type OcppOptions = v.InferOutput<typeof OcppOptionsSchema>;

const TokenStatus = v.picklist(["Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"]);

export const AuthOptionsSchema = v.strictObject({
  tokens: v.optional(
    v.array(
      v.strictObject({
        id_tag: v.pipe(v.string(), v.minLength(1, "must not be empty"), v.maxLength(36, "must be at most 36 characters")),
        status: v.optional(TokenStatus, "Accepted"),
        parent_id_tag: v.optional(v.pipe(v.string(), v.maxLength(36, "must be at most 36 characters"))),
        expiry: v.optional(dateTime()),
      }),
    ),
    () => [],
  ),
  connection_timeout_s: v.optional(v.pipe(int(), v.minValue(1, "must be at least 1"), v.maxValue(86400, "must be at most 86400")), 60),
});
export type AuthOptions = v.InferOutput<typeof AuthOptionsSchema>;
