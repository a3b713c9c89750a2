// The allowed order of session events (behavior.md §4.1, §5.4, §6, §9.2), checked event by event
// as they are published. A session is the events carrying its uuid; events with uuid "" are the
// connector's own (reservations, enable/disable outside a session). Rules:
//   * one session at a time; it starts with SessionStarted and ends with SessionFinished;
//   * TransactionStarted at most once, only after Authorized; the charging events (PrepareCharging,
//     ChargingStarted, ChargingResumed, ChargingPausedEV/EVSE, WaitingForEnergy, SwitchingPhases,
//     StoppingCharging) only while that transaction is open;
//   * StoppingCharging is followed by ChargingFinished, ChargingFinished at once by
//     TransactionFinished, and nothing but SessionFinished, Enabled or Disabled after that;
//   * ChargingResumed only after ChargingStarted; a session with a transaction finishes it before
//     SessionFinished;
//   * Enabled and Disabled alternate, ReservationStart and ReservationEnd alternate;
//   * timestamps never go back.

export interface SessionEventLike {
  uuid: string;
  event: string;
  timestamp: string;
}

const CHARGING = new Set(["PrepareCharging", "ChargingStarted", "ChargingResumed", "ChargingPausedEV", "ChargingPausedEVSE", "WaitingForEnergy", "SwitchingPhases", "StoppingCharging"]);

interface Open {
  uuid: string;
  events: string[];
  authorized: boolean;
  tx: "none" | "open" | "stopping" | "finishing" | "done";
  charged: boolean;
}

export interface FinishedSession {
  uuid: string;
  events: string[];
  /** Why the order is invalid; null when it is valid. */
  disorder: string | null;
}

export class SessionGrammar {
  #open: Open | null = null;
  #disorder: string | null = null;
  #enabled: boolean | null = null;
  #reserved = false;
  #lastTs = -Infinity;
  /** Disorders outside any session (connector-level events, timestamps). */
  readonly connectorDisorders: string[] = [];

  /** Feeds one event; returns the session it finished, if any. */
  push(e: SessionEventLike): FinishedSession | null {
    const ts = Date.parse(e.timestamp);
    if (!(ts >= this.#lastTs)) this.#flag(`timestamp ${e.timestamp} goes back`);
    this.#lastTs = ts;
    switch (e.event) {
      case "Enabled":
      case "Disabled": {
        const on = e.event === "Enabled";
        if (this.#enabled === on) this.#flag(`${e.event} twice in a row`);
        this.#enabled = on;
        if (e.uuid !== "" && e.uuid !== this.#open?.uuid) this.#flag(`${e.event} with uuid ${e.uuid} outside its session`);
        if (this.#open && e.uuid === this.#open.uuid) this.#open.events.push(e.event);
        return null;
      }
      case "ReservationStart":
      case "ReservationEnd": {
        const start = e.event === "ReservationStart";
        if (this.#reserved === start) this.#flag(`${e.event} while ${start ? "reserved" : "not reserved"}`);
        this.#reserved = start;
        if (e.uuid !== "") this.#flag(`${e.event} with uuid ${e.uuid}`);
        return null;
      }
      case "SessionResumed":
        return null; // boot only (D7); the soak never restarts
    }
    if (e.event === "SessionStarted") {
      const previous = this.#open;
      this.#open = { uuid: e.uuid, events: ["SessionStarted"], authorized: false, tx: "none", charged: false };
      this.#disorder = null;
      if (previous !== null) this.#flag(`SessionStarted while session ${previous.uuid} is open`);
      if (e.uuid === "") this.#flag("SessionStarted without a uuid");
      return null;
    }
    const s = this.#open;
    if (s === null || e.uuid !== s.uuid) {
      this.#flag(`${e.event} (uuid "${e.uuid}") outside ${s ? `session ${s.uuid}` : "any session"}`);
      return null;
    }
    s.events.push(e.event);
    const bad = (why: string) => (this.#disorder ??= `${why} (events: ${s.events.join(" → ")})`);
    if (s.tx === "stopping" && e.event !== "ChargingFinished") bad(`${e.event} after StoppingCharging`);
    if (s.tx === "finishing" && e.event !== "TransactionFinished") bad(`${e.event} right after ChargingFinished`);
    if (s.tx === "done" && e.event !== "SessionFinished") bad(`${e.event} after TransactionFinished`);
    switch (e.event) {
      case "Authorized":
        s.authorized = true;
        break;
      case "Deauthorized":
        if (s.tx === "none") s.authorized = false;
        break;
      case "TransactionStarted":
        if (s.tx !== "none") bad("second TransactionStarted");
        if (!s.authorized) bad("TransactionStarted before Authorized");
        s.tx = "open";
        break;
      case "ChargingFinished":
        if (s.tx !== "stopping") bad("ChargingFinished without StoppingCharging");
        s.tx = "finishing";
        break;
      case "TransactionFinished":
        if (s.tx !== "finishing") bad("TransactionFinished without ChargingFinished just before");
        s.tx = "done";
        break;
      case "SessionFinished": {
        if (s.tx !== "none" && s.tx !== "done") bad("SessionFinished with the transaction still open");
        this.#open = null;
        const done = { uuid: s.uuid, events: s.events, disorder: this.#disorder };
        this.#disorder = null;
        return done;
      }
      default:
        if (CHARGING.has(e.event)) {
          if (s.tx !== "open") bad(`${e.event} without an open transaction`);
          if (e.event === "StoppingCharging") s.tx = "stopping";
          if (e.event === "ChargingStarted") s.charged = true;
          if (e.event === "ChargingResumed" && !s.charged) bad("ChargingResumed before ChargingStarted");
        }
    }
    return null;
  }

  /** The session still open, if any (a soak ends each scenario with none). */
  open(): { uuid: string; events: string[] } | null {
    return this.#open ? { uuid: this.#open.uuid, events: [...this.#open.events] } : null;
  }

  #flag(why: string): void {
    if (this.#open) this.#disorder ??= `${why} (events: ${this.#open.events.join(" → ")})`;
    else this.connectorDisorders.push(why);
  }
}
