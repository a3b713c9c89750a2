// `mqtt.*` (integration.md §3–4): the MQTT bridge and Home Assistant discovery. Without `url`
// nothing connects. Secrets and file paths are only checked for shape here; main.ts reads
// `ca_file` and refuses the start when it cannot.
import * as v from "valibot";
import { int } from "../types/schema-helpers.ts";

const nonEmpty = () => v.pipe(v.string(), v.minLength(1, "must not be empty"));

/** A publish topic of our own: no wildcards, no empty level at either end. */
const topicBase = () =>
  v.pipe(
    nonEmpty(),
    v.check((s) => !/[#+\u0000]/.test(s), "must not contain the MQTT wildcards + or #"),
    v.check((s) => !s.startsWith("/") && !s.endsWith("/"), "must not start or end with /"),
  );

function brokerUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === "mqtt:" || u.protocol === "mqtts:") && u.hostname !== "";
  } catch {
    return false;
  }
}

export const HomeAssistantOptionsSchema = v.strictObject({
  enabled: v.optional(v.boolean(), true),
  discovery_prefix: v.optional(topicBase(), "homeassistant"),
});

export const MqttOptionsSchema = v.strictObject({
  url: v.optional(v.pipe(v.string(), v.check(brokerUrl, "must be mqtt://host[:port] or mqtts://host[:port]"))),
  username: v.optional(v.string()),
  password: v.optional(v.string()),
  ca_file: v.optional(nonEmpty()),
  /** Default `evse-manager/<hostname>`, filled in by the bridge (the host name is I/O). */
  topic_prefix: v.optional(topicBase()),
  client_id: v.optional(v.pipe(nonEmpty(), v.maxLength(128, "must be at most 128 characters"))),
  /** 5 (default) or 4 = MQTT 3.1.1 for older brokers. */
  protocol_version: v.optional(v.picklist([4, 5], "must be 4 (MQTT 3.1.1) or 5"), 5),
  status_interval_s: v.optional(v.pipe(int(), v.minValue(1, "must be at least 1"), v.maxValue(3600, "must be at most 3600")), 10),
  homeassistant: v.optional(HomeAssistantOptionsSchema, () => ({})),
});
export type MqttConfig = v.InferOutput<typeof MqttOptionsSchema>;
