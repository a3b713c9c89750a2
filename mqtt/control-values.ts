// `P/evse/i/control/<field>/set` carries one plain value (integration.md §3), as HA's switch,
// number and select entities send it. Turned into the `PUT …/control` body for that field; what
// the value means is then checked by the control path itself, exactly as over HTTP.
import { ApiError } from "../api/errors.ts";

export const CONTROL_FIELDS = ["enabled", "max_current_A", "phases"] as const;
export type ControlField = (typeof CONTROL_FIELDS)[number];

export const isControlField = (s: string): s is ControlField => (CONTROL_FIELDS as readonly string[]).includes(s);

/** The payload as quoted in an error: a huge one is not echoed back whole. */
const quoted = (payload: string) => JSON.stringify(payload.length > 64 ? `${payload.slice(0, 64)}…` : payload);

const invalid = (field: string, message: string) => new ApiError(400, "invalid_body", `${field}: ${message}`, [{ path: field, message }]);

export function controlBodyOf(field: ControlField, payload: string): Record<string, unknown> {
  const text = payload.trim();
  if (field === "enabled") {
    const word = text.replace(/^"(.*)"$/, "$1").toLowerCase();
    if (word === "true" || word === "on") return { enabled: true };
    if (word === "false" || word === "off") return { enabled: false };
    throw invalid(field, `expected true, false, ON or OFF, got ${quoted(payload)}`);
  }
  const number = text === "" ? NaN : Number(text.replace(/^"(.*)"$/, "$1"));
  if (!Number.isFinite(number)) throw invalid(field, `expected a number, got ${quoted(payload)}`);
  return { [field]: number };
}
