// SessionEvent payloads (behavior.md §9.1). Closed objects: optional keys are omitted, never
// undefined; timestamps are RFC 3339 UTC with milliseconds.
import type { EnableSourceRow } from "./enable-disable.ts";
import type { Powermeter, ProvidedIdToken, SessionEvent, SessionEventEnum, StopTransactionReason } from "./types/index.ts";

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** Q27: before the first reading the payloads carry a zero reading stamped now. */
export function meterValueOrZero(latest: Powermeter | null, now: number): Powermeter {
  return latest ?? { timestamp: rfc3339(now), energy_Wh_import: { total: 0 } };
}

function base(event: SessionEventEnum, uuid: string, now: number): SessionEvent {
  return { uuid, event, timestamp: rfc3339(now) };
}

type SimpleEvent =
  | "AuthRequired"
  | "PrepareCharging"
  | "WaitingForEnergy"
  | "StoppingCharging"
  | "ChargingFinished"
  | "PluginTimeout"
  | "SwitchingPhases"
  | "ReservationStart"
  | "ReservationEnd"
  | "SessionResumed";

export function simpleEvent(event: SimpleEvent, uuid: string, now: number): SessionEvent {
  return base(event, uuid, now);
}

export function chargingStateEvent(
  event: "ChargingStarted" | "ChargingResumed" | "ChargingPausedEV" | "ChargingPausedEVSE",
  uuid: string,
  now: number,
  meter_value: Powermeter,
): SessionEvent {
  return { ...base(event, uuid, now), charging_state_changed_event: { meter_value } };
}

export function authorizationEvent(
  event: "Authorized" | "Deauthorized",
  uuid: string,
  now: number,
  meter_value: Powermeter,
): SessionEvent {
  return { ...base(event, uuid, now), authorization_event: { meter_value } };
}

export function sessionStarted(
  uuid: string,
  now: number,
  s: { reason: "EVConnected" | "Authorized"; meter_value: Powermeter; id_tag?: ProvidedIdToken; reservation_id?: number },
): SessionEvent {
  const session_started: NonNullable<SessionEvent["session_started"]> = { reason: s.reason, meter_value: s.meter_value };
  if (s.reason === "Authorized" && s.id_tag !== undefined) session_started.id_tag = s.id_tag;
  if (s.reservation_id !== undefined && s.reservation_id >= 0) session_started.reservation_id = s.reservation_id; // [Q18]
  return { ...base("SessionStarted", uuid, now), session_started };
}

export function sessionFinished(uuid: string, now: number, meter_value: Powermeter): SessionEvent {
  return { ...base("SessionFinished", uuid, now), session_finished: { meter_value } };
}

export function transactionStarted(
  uuid: string,
  now: number,
  t: { id_tag: ProvidedIdToken; meter_value: Powermeter; reservation_id?: number },
): SessionEvent {
  const transaction_started: NonNullable<SessionEvent["transaction_started"]> = {
    id_tag: t.id_tag,
    meter_value: t.meter_value,
  };
  if (t.reservation_id !== undefined && t.reservation_id >= 0) transaction_started.reservation_id = t.reservation_id;
  return { ...base("TransactionStarted", uuid, now), transaction_started };
}

export interface TransactionFinishedData {
  meter_value: Powermeter;
  reason: StopTransactionReason;
  id_tag?: ProvidedIdToken;
  start_signed_meter_value?: unknown;
  signed_meter_value?: unknown;
}

export function transactionFinished(uuid: string, now: number, t: TransactionFinishedData): SessionEvent {
  const transaction_finished: NonNullable<SessionEvent["transaction_finished"]> = {
    meter_value: t.meter_value,
    reason: t.reason,
  };
  if (t.id_tag !== undefined) transaction_finished.id_tag = t.id_tag;
  // Signed values pass through byte for byte (§5.2): they are never rebuilt.
  type Signed = NonNullable<typeof transaction_finished.signed_meter_value>;
  if (t.start_signed_meter_value !== undefined) transaction_finished.start_signed_meter_value = t.start_signed_meter_value as Signed;
  if (t.signed_meter_value !== undefined) transaction_finished.signed_meter_value = t.signed_meter_value as Signed;
  return { ...base("TransactionFinished", uuid, now), transaction_finished };
}

/** Enabled/Disabled: `source` after the change; `connector_id: 1` only for a connector-level call. */
export function enableEvent(
  event: "Enabled" | "Disabled",
  uuid: string,
  now: number,
  source: EnableSourceRow,
  connectorLevel: boolean,
): SessionEvent {
  const ev: SessionEvent = { ...base(event, uuid, now), source: { ...source } };
  if (connectorLevel) ev.connector_id = 1;
  return ev;
}
