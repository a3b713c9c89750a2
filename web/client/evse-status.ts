// The one status an EVSE shows (overview card, detail header): derived from everything the page
// knows at once (the session phase from session events, the CP level and relays from the board,
// the active errors, the boot flag), so a fault can never hide behind "Charging". Pure: no DOM, no
// clock, unit-tested in test/dashboard-status.test.ts.
import type { EvseStatus } from "./session-status.ts";
import { INOPERATIVE, NON_BLOCKING } from "../../core/error-handling.ts";

export type StatusName =
  | "Available"
  | "Occupied"
  | "Charging"
  | "Paused by car"
  | "Paused by charger"
  | "Waiting for energy"
  | "Finishing"
  | "Faulted"
  | "Unavailable";

export type Tone = "ok" | "active" | "wait" | "warn" | "bad" | "idle";

export interface DerivedStatus {
  status: StatusName;
  /** Why, in words: "RCD tripped, relays open". */
  reason: string;
  tone: Tone;
}

export interface StatusError {
  type: string;
  sub_type?: string;
  message: string;
}

export interface StatusInput {
  /** From the session events (session-status.ts). */
  session: EvseStatus;
  /** CP level the board sees ("A"…"F"); null when unknown (a real board has no sim view). */
  cp: string | null;
  /** null when unknown. */
  relaysClosed: boolean | null;
  powerW: number | null;
  errors: readonly StatusError[];
  /** The `ready` variable; false while the kernel boots. */
  ready: boolean | null;
  /** Phases switched and the limit, for the charging reason; optional. */
  phases?: number | null;
  limitA?: number | null;
}



/** Whether an error stops charging. The derived Inoperative (empty sub_type) only mirrors others. */
export function isBlocking(e: StatusError): boolean {
  if (e.type === INOPERATIVE) return (e.sub_type ?? "") !== "";
  if (NON_BLOCKING.has(e.type)) return false;
  // Meter errors block only with fail_on_powermeter_errors; the page cannot see that option, so
  // it calls them faults only when the kernel has also derived Inoperative from them.
  if (e.type.startsWith("powermeter/")) return false;
  return true;
}

const WORDS: Record<string, string> = {
  "ac_rcd/DC": "RCD tripped (DC residual current)",
  "ac_rcd/AC": "RCD tripped (AC residual current)",
  "ac_rcd/Selftest": "RCD self-test failed",
  "ac_rcd/MREC2GroundFailure": "ground failure",
  "evse_board_support/DiodeFault": "vehicle diode fault on the control pilot",
  "evse_board_support/MREC14PilotFault": "control pilot fault",
  "evse_board_support/MREC23ProximityFault": "cable (proximity pilot) fault",
  "evse_board_support/MREC17EVSEContactorFault": "contactor fault",
  "evse_board_support/MREC5OverVoltage": "supply over-voltage",
  "evse_board_support/MREC6UnderVoltage": "supply under-voltage",
  "evse_board_support/MREC4OverCurrentFailure": "over-current",
  "evse_board_support/MREC3HighTemperature": "high temperature",
  "evse_board_support/MREC18CableOverTempDerate": "cable too hot, current reduced",
  "evse_board_support/CommunicationFault": "board not answering",
  "evse_board_support/PermanentFault": "permanent board fault",
  "evse_manager/MREC4OverCurrentFailure": "car drew more current than offered",
  "evse_manager/PowermeterTransactionStartFailed": "billing meter refused to start the transaction",
  "evse_manager/Internal": "internal error",
  "connector_lock/ConnectorLockFailedLock": "connector lock failed to lock",
  "connector_lock/ConnectorLockFailedUnlock": "connector lock failed to unlock",
  "connector_lock/MREC1ConnectorLockFailure": "connector lock failure",
};

/** A short description of one error: known types in words, otherwise the error's own message. */
export function errorInWords(e: StatusError): string {
  if (e.type === INOPERATIVE && e.sub_type === "set_faulted") return "set faulted by command";
  const known = WORDS[e.type];
  if (known) return known;
  return e.message.trim() !== "" ? e.message.trim() : e.type.slice(e.type.indexOf("/") + 1);
}

const CP_WORDS: Record<string, string> = {
  A: "no vehicle",
  B: "vehicle connected",
  C: "vehicle requests charging",
  D: "vehicle requests charging with ventilation",
};

function relaysWords(closed: boolean | null): string {
  return closed === null ? "" : closed ? "relays closed" : "relays open";
}

const join = (...parts: (string | null | undefined | false)[]) => parts.filter((p): p is string => typeof p === "string" && p !== "").join(", ");

function kWText(w: number): string {
  return `${(w / 1000).toFixed(1)} kW`;
}

export function deriveStatus(input: StatusInput): DerivedStatus {
  const { session, cp, relaysClosed, powerW, errors, ready } = input;
  const blocking = errors.filter(isBlocking);

  // 1. Faults first: whatever the session events last said, an active blocking error wins.
  if (blocking.length > 0) {
    const words = [...new Set(blocking.map(errorInWords))];
    // Welded relays are the one fault where "closed" is the alarming part.
    return { status: "Faulted", reason: join(words.join("; "), relaysWords(relaysClosed)), tone: "bad" };
  }
  if (cp === "E") return { status: "Faulted", reason: join("control pilot short or vehicle error (CP state E)", relaysWords(relaysClosed)), tone: "bad" };

  // 2. Not in service.
  if (!session.enabled) return { status: "Unavailable", reason: "disabled", tone: "bad" };
  if (ready === false) return { status: "Unavailable", reason: "starting: waiting for the board", tone: "idle" };
  if (cp === "F") return { status: "Unavailable", reason: "charger not available (CP state F)", tone: "bad" };

  // 3. No session.
  const plugged = cp === "B" || cp === "C" || cp === "D";
  if (!session.inSession) {
    if (plugged) return { status: "Occupied", reason: CP_WORDS[cp]!, tone: "wait" };
    return { status: "Available", reason: session.reserved ? "reserved" : "ready for a vehicle", tone: session.reserved ? "wait" : "idle" };
  }

  // 4. In a session: the phase from the session events, the detail from the board.
  const phase = session.phase;
  if (phase === "Charging") {
    if (relaysClosed === false) return { status: "Charging", reason: "starting: relays still open", tone: "active" };
    const flowing = typeof powerW === "number" && powerW > 50;
    const ph = input.phases ? `${input.phases} phase${input.phases > 1 ? "s" : ""}` : null;
    const reason = flowing ? join(kWText(powerW!), ph) : join("relays closed", "vehicle draws no power yet");
    return { status: "Charging", reason, tone: "active" };
  }
  if (phase === "Paused by vehicle") return { status: "Paused by car", reason: cp === "B" ? "vehicle stopped requesting power (CP B)" : "vehicle paused", tone: "warn" };
  if (phase === "Paused by charger") return { status: "Paused by charger", reason: "paused from the charger side, relays open", tone: "warn" };
  if (phase === "Waiting for energy") {
    const limit = typeof input.limitA === "number" ? `limit ${input.limitA.toFixed(1)} A` : null;
    return { status: "Waiting for energy", reason: join("no current available", limit), tone: "warn" };
  }
  if (phase === "Stopping" || phase === "Finished") {
    return { status: "Finishing", reason: plugged ? "transaction finished; unplug the vehicle" : "session closing", tone: "ok" };
  }
  if (phase === "Waiting for authorization") return { status: "Occupied", reason: "vehicle connected, waiting for authorization", tone: "wait" };
  if (phase === "Authorized" && cp === "A") return { status: "Occupied", reason: "authorized, waiting for the vehicle", tone: "wait" };
  if (phase === "Plug-in timeout") return { status: "Occupied", reason: "plug-in timeout", tone: "warn" };
  return { status: "Occupied", reason: phase.charAt(0).toLowerCase() + phase.slice(1), tone: "wait" };
}
