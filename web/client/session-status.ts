// What the session events say (the interface has no "state" variable): enabled or not, in a
// session or not, which charging phase, reserved or not, and the meter reading at transaction
// start so the page can show the energy of this session. The status the page shows combines this
// with the board and the errors (evse-status.ts).
import { energy } from "./format.ts";

export interface SessionEvent {
  uuid: string;
  event: string;
  timestamp: string;
  [key: string]: unknown;
}

export interface EvseStatus {
  enabled: boolean;
  inSession: boolean;
  reserved: boolean;
  phase: string;
  /** Meter total (Wh) when the transaction started; null outside a transaction. */
  txStartWh: number | null;
  txToken: string | null;
  /** Session id and start time of the session in progress, for the session card. */
  sessionUuid: string | null;
  sessionSince: string | null;
  txSince: string | null;
}

export const initialStatus: EvseStatus = {
  enabled: true,
  inSession: false,
  reserved: false,
  phase: "Available",
  txStartWh: null,
  txToken: null,
  sessionUuid: null,
  sessionSince: null,
  txSince: null,
};

const PHASE: Record<string, string> = {
  SessionStarted: "Vehicle connected",
  AuthRequired: "Waiting for authorization",
  Authorized: "Authorized",
  Deauthorized: "Vehicle connected",
  TransactionStarted: "Preparing",
  PrepareCharging: "Preparing",
  ChargingStarted: "Charging",
  ChargingResumed: "Charging",
  ChargingPausedEV: "Paused by vehicle",
  ChargingPausedEVSE: "Paused by charger",
  WaitingForEnergy: "Waiting for energy",
  StoppingCharging: "Stopping",
  ChargingFinished: "Finished",
  TransactionFinished: "Finished",
  PluginTimeout: "Plug-in timeout",
  ReplugStarted: "Re-plugging",
  SwitchingPhases: "Switching phases",
  SessionResumed: "Session resumed",
};

const meterWh = (payload: unknown): number | null => {
  const total = (payload as { meter_value?: { energy_Wh_import?: { total?: unknown } } } | undefined)?.meter_value?.energy_Wh_import?.total;
  return typeof total === "number" ? total : null;
};

export function applySessionEvent(s: EvseStatus, e: SessionEvent): EvseStatus {
  switch (e.event) {
    case "Enabled":
      return { ...s, enabled: true };
    case "Disabled":
      return { ...s, enabled: false };
    case "ReservationStart":
      return { ...s, reserved: true };
    case "ReservationEnd":
      return { ...s, reserved: false };
    case "SessionStarted":
      return { ...s, inSession: true, phase: PHASE.SessionStarted!, txStartWh: null, txToken: null, sessionUuid: e.uuid, sessionSince: e.timestamp, txSince: null };
    case "SessionFinished":
      return { ...s, inSession: false, phase: "Available", txStartWh: null, txToken: null, sessionUuid: null, sessionSince: null, txSince: null };
    case "TransactionStarted": {
      const ts = e.transaction_started as { id_tag?: { id_token?: { value?: string } } } | undefined;
      return {
        ...s,
        inSession: true,
        phase: PHASE.TransactionStarted!,
        txStartWh: meterWh(ts),
        txToken: ts?.id_tag?.id_token?.value ?? null,
        txSince: e.timestamp,
        sessionUuid: s.sessionUuid ?? e.uuid,
      };
    }
    case "Authorized":
      // Authorization during a pause or while charging does not change what the car is doing.
      return s.txStartWh === null ? { ...s, phase: PHASE.Authorized! } : s;
    case "Deauthorized":
      return s.inSession && s.txStartWh === null ? { ...s, phase: PHASE.Deauthorized! } : s;
    default: {
      const phase = PHASE[e.event];
      return phase ? { ...s, inSession: true, phase } : s;
    }
  }
}

/** One line of detail for the event log: the payload fields a person looks for. */
export function eventDetail(e: SessionEvent): string {
  const parts: string[] = [];
  const ss = e.session_started as { reason?: string; reservation_id?: number } | undefined;
  if (ss?.reason) parts.push(`reason ${ss.reason}`);
  if (ss?.reservation_id !== undefined) parts.push(`reservation ${ss.reservation_id}`);
  const ts = e.transaction_started as { id_tag?: { id_token?: { value?: string; type?: string } }; reservation_id?: number } | undefined;
  if (ts?.id_tag?.id_token) parts.push(`token ${ts.id_tag.id_token.value} (${ts.id_tag.id_token.type})`);
  const tf = e.transaction_finished as { reason?: string; signed_meter_value?: unknown } | undefined;
  if (tf?.reason) parts.push(`reason ${tf.reason}`);
  if (tf?.signed_meter_value) parts.push("signed OCMF");
  const src = e.source as { enable_source?: string; enable_priority?: number } | undefined;
  if (src?.enable_source) parts.push(`by ${src.enable_source} (priority ${src.enable_priority})`);
  for (const key of ["session_started", "transaction_started", "transaction_finished", "session_finished", "charging_state_changed_event", "authorization_event"]) {
    const wh = meterWh(e[key]);
    if (wh !== null) {
      parts.push(`meter ${energy(wh)}`);
      break;
    }
  }
  return parts.join(" · ");
}
