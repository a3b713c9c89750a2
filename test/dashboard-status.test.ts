// The dashboard's status derivation (web/client/evse-status.ts) as a pure function: session phase,
// CP level, relays, power and active errors in, one of nine statuses and the reason in words out.
// The cases are the ones a page must not get wrong: a fault while the last session event still says
// "Charging", a CP short with no error, a disabled or booting EVSE.
import { describe, expect, test } from "bun:test";
import { deriveStatus, errorInWords, isBlocking, type StatusInput } from "../web/client/evse-status.ts";
import { applySessionEvent, initialStatus, type EvseStatus, type SessionEvent } from "../web/client/session-status.ts";

const ev = (event: string, extra: Record<string, unknown> = {}): SessionEvent => ({ uuid: "s1", event, timestamp: "2025-01-01T00:00:00.000Z", ...extra });
const after = (...events: string[]): EvseStatus => events.reduce((s, e) => applySessionEvent(s, ev(e)), initialStatus);
const CHARGING = after("Enabled", "SessionStarted", "AuthRequired", "Authorized", "TransactionStarted", "PrepareCharging", "ChargingStarted");

function input(over: Partial<StatusInput>): StatusInput {
  return { session: after("Enabled"), cp: "A", relaysClosed: false, powerW: 0, errors: [], ready: true, ...over };
}

const DIODE = { type: "evse_board_support/DiodeFault", sub_type: "", message: "CP diode fault: the negative half-wave is missing while PWM runs" };
const RCD = { type: "ac_rcd/DC", sub_type: "", message: "residual current above 5 mA (DC); the board opened the relays" };
const DERIVED = (cause: string) => ({ type: "evse_manager/Inoperative", sub_type: "", message: cause });

describe("deriveStatus", () => {
  test("idle and free: Available", () => {
    expect(deriveStatus(input({}))).toEqual({ status: "Available", reason: "ready for a vehicle", tone: "idle" });
  });

  test("charging with power flowing: Charging with the power and phases", () => {
    const s = deriveStatus(input({ session: CHARGING, cp: "C", relaysClosed: true, powerW: 11_040, phases: 3 }));
    expect(s).toEqual({ status: "Charging", reason: "11.0 kW, 3 phases", tone: "active" });
  });

  test("an RCD trip while the last session event still says charging: Faulted, RCD tripped, relays open", () => {
    const s = deriveStatus(input({ session: CHARGING, cp: "B", relaysClosed: false, powerW: 0, errors: [RCD, DERIVED("ac_rcd/DC")] }));
    expect(s.status).toBe("Faulted");
    expect(s.tone).toBe("bad");
    expect(s.reason).toBe("RCD tripped (DC residual current), relays open");
  });

  test("a diode fault while charging: Faulted with the diode in words", () => {
    const s = deriveStatus(input({ session: CHARGING, cp: "C", relaysClosed: false, errors: [DIODE, DERIVED(DIODE.type)] }));
    expect(s).toEqual({ status: "Faulted", reason: "vehicle diode fault on the control pilot, relays open", tone: "bad" });
  });

  test("welded relays: Faulted and the reason says the relays are closed", () => {
    const weld = { type: "evse_board_support/MREC17EVSEContactorFault", sub_type: "", message: "relays still reported closed 3 s after they were commanded open" };
    expect(deriveStatus(input({ cp: "A", relaysClosed: true, errors: [weld] })).reason).toBe("contactor fault, relays closed");
  });

  test("CP state E with no error raised (error_e): Faulted, not Available", () => {
    const s = deriveStatus(input({ session: after("Enabled", "SessionStarted", "SessionFinished"), cp: "E", relaysClosed: false }));
    expect(s.status).toBe("Faulted");
    expect(s.reason).toContain("CP state E");
  });

  test("an unknown error type is described by its own message", () => {
    const s = deriveStatus(input({ errors: [{ type: "evse_board_support/VendorError", sub_type: "x", message: "fan stuck" }] }));
    expect(s).toEqual({ status: "Faulted", reason: "fan stuck, relays open", tone: "bad" });
  });

  test("warnings and the derived Inoperative alone do not fault the EVSE", () => {
    const warm = { type: "evse_board_support/MREC3HighTemperature", sub_type: "", message: "hot" };
    expect(isBlocking(warm)).toBe(false);
    expect(isBlocking(DERIVED("x"))).toBe(false);
    expect(isBlocking({ type: "evse_manager/Inoperative", sub_type: "set_faulted", message: "set_faulted" })).toBe(true);
    expect(deriveStatus(input({ errors: [warm] })).status).toBe("Available");
    expect(errorInWords({ type: "evse_manager/Inoperative", sub_type: "set_faulted", message: "set_faulted" })).toBe("set faulted by command");
  });

  test("disabled, booting and CP F are Unavailable", () => {
    expect(deriveStatus(input({ session: after("Enabled", "Disabled") }))).toEqual({ status: "Unavailable", reason: "disabled", tone: "bad" });
    expect(deriveStatus(input({ ready: false })).status).toBe("Unavailable");
    expect(deriveStatus(input({ cp: "F" })).status).toBe("Unavailable");
  });

  test("plugged without a session, and waiting for authorization: Occupied", () => {
    expect(deriveStatus(input({ cp: "B" }))).toEqual({ status: "Occupied", reason: "vehicle connected", tone: "wait" });
    const waiting = deriveStatus(input({ session: after("Enabled", "SessionStarted", "AuthRequired"), cp: "B" }));
    expect(waiting).toEqual({ status: "Occupied", reason: "vehicle connected, waiting for authorization", tone: "wait" });
  });

  test("pauses, waiting for energy and finishing", () => {
    expect(deriveStatus(input({ session: after("Enabled", "SessionStarted", "TransactionStarted", "ChargingPausedEV"), cp: "B" })).status).toBe("Paused by car");
    expect(deriveStatus(input({ session: after("Enabled", "SessionStarted", "TransactionStarted", "ChargingPausedEVSE"), cp: "C" })).status).toBe("Paused by charger");
    const wfe = deriveStatus(input({ session: after("Enabled", "SessionStarted", "TransactionStarted", "WaitingForEnergy"), cp: "C", limitA: 0 }));
    expect(wfe).toEqual({ status: "Waiting for energy", reason: "no current available, limit 0.0 A", tone: "warn" });
    const done = deriveStatus(input({ session: after("Enabled", "SessionStarted", "TransactionStarted", "StoppingCharging", "TransactionFinished"), cp: "B" }));
    expect(done).toEqual({ status: "Finishing", reason: "transaction finished; unplug the vehicle", tone: "ok" });
  });

  test("on a real board (no CP or relay view) the session events decide", () => {
    expect(deriveStatus(input({ session: CHARGING, cp: null, relaysClosed: null, powerW: 7000 })).status).toBe("Charging");
    expect(deriveStatus(input({ session: CHARGING, cp: null, relaysClosed: null, errors: [RCD] }))).toEqual({ status: "Faulted", reason: "RCD tripped (DC residual current)", tone: "bad" });
  });
});

describe("stream filters of the views", () => {
  test("the detail view asks for every variable of the interface and the errors; the overview for a subset", async () => {
    const { VARIABLE_NAMES } = await import("../core/kernel-api.ts");
    const { DETAIL_TYPES, OVERVIEW_TYPES } = await import("../web/client/stream-types.ts");
    expect(DETAIL_TYPES).toEqual([...VARIABLE_NAMES, "errors"]);
    for (const t of OVERVIEW_TYPES) expect(DETAIL_TYPES).toContain(t);
    expect(OVERVIEW_TYPES).not.toContain("telemetry");
  });
});
