// The header's MQTT and OCPP badges in words, from GET /api/v1/mqtt and GET /api/v1/ocpp. Pure;
// unit-tested in test/dashboard-limits.test.ts. null: show no badge (not configured).

export interface MqttConnection {
  configured: boolean;
  connected: boolean;
  broker: string | null;
  last_error: string | null;
  queued: number;
  dropped: number;
}

/** ocpp.md §9. */
export interface OcppConnection {
  configured: boolean;
  connected: boolean;
  registration: "Accepted" | "Pending" | "Rejected" | null;
  queued_transaction_messages: number;
  last_error: string | null;
}

/** One connector's OCPP status (GET /api/v1/ocpp/connectors; connector 0 is the charge point). */
export interface OcppConnector {
  connector_id: number;
  status: string;
  error_code: string;
}

export interface Badge {
  text: string;
  tone: "ok" | "warn" | "bad";
  /** More detail on hover. */
  title: string;
}

export function mqttBadge(m: MqttConnection | null): Badge | null {
  if (!m?.configured) return null;
  const where = m.broker ?? "the broker";
  if (m.connected) return { text: "MQTT connected", tone: "ok", title: `${where}; ${m.queued} queued, ${m.dropped} dropped` };
  const text = m.last_error ? `MQTT: reconnecting — ${m.last_error}` : "MQTT: connecting";
  return { text, tone: "bad", title: `${where}; ${m.queued} messages wait for the broker` };
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

export function ocppBadge(o: OcppConnection | null): Badge | null {
  if (!o?.configured) return null;
  const queued = o.queued_transaction_messages;
  const title = [o.last_error, `${plural(queued, "transaction message")} queued`].filter(Boolean).join("; ");
  if (!o.connected) return { text: queued > 0 ? `OCPP offline — ${plural(queued, "message")} queued` : "OCPP offline", tone: "bad", title };
  if (o.registration === "Accepted") return { text: "OCPP connected · Accepted", tone: "ok", title };
  return { text: `OCPP connected · ${o.registration ?? "registering"}`, tone: "warn", title };
}

/** An EVSE's connector status, for its card and detail: "OCPP Charging", "OCPP Faulted (GroundFailure)". */
export function connectorText(c: OcppConnector | undefined): string | null {
  if (!c) return null;
  return c.error_code && c.error_code !== "NoError" ? `OCPP ${c.status} (${c.error_code})` : `OCPP ${c.status}`;
}
