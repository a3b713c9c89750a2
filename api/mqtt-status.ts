// GET /api/v1/mqtt: the MQTT bridge's connection as an operator or the dashboard reads it. The
// broker is named without credentials; without `mqtt.url` nothing connects and this says so.
import * as v from "valibot";

export const MqttStatusSchema = v.strictObject({
  configured: v.pipe(v.boolean(), v.description("mqtt.url is set")),
  connected: v.pipe(v.boolean(), v.description("connected to the broker now")),
  broker: v.pipe(v.nullable(v.string()), v.description("scheme://host:port of mqtt.url, without user or password; null when not configured")),
  last_error: v.pipe(v.nullable(v.string()), v.description("why the last connection attempt failed or the connection was lost; null while connected")),
  queued: v.pipe(v.number(), v.description("messages waiting to be sent or acknowledged")),
  dropped: v.pipe(v.number(), v.description("messages dropped since start (superseded status, full queue, refused by the broker)")),
});
export type MqttStatus = v.InferOutput<typeof MqttStatusSchema>;

/** What the bridge (mqtt/bridge.ts) offers; the API does not import it, main.ts hands it over. */
export interface MqttSource {
  readonly broker: string;
  stats(): { connected: boolean; queued: number; dropped: Record<string, number>; last_error: string | null };
}

export function mqttStatus(bridge: MqttSource | undefined): MqttStatus {
  if (!bridge) return { configured: false, connected: false, broker: null, last_error: null, queued: 0, dropped: 0 };
  const s = bridge.stats();
  const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
  return { configured: true, connected: s.connected, broker: bridge.broker, last_error: s.connected ? null : s.last_error, queued: s.queued, dropped };
}
