// What the front ends (tokens, OCPP) need to know about one EVSE, followed from its session events
// alone: is a session open, was it opened by a plug-in (and when), is it authorized, which token
// runs the transaction, is it reserved or disabled. The kernel stays the authority; this is a
// read model that never commands anything.
import type { SessionEvent } from "../core/types/index.ts";

export interface TransactionView {
  uuid: string;
  id_tag: string;
  parent_id_tag: string | null;
  started_at: string;
}

export class EvseView {
  enabled = true;
  sessionUuid: string | null = null;
  /** Time (ms) of the plug-in that opened the session; null for an authorize-first session. */
  pluggedAt: number | null = null;
  /** The car is plugged in (EVConnected session, or an authorize-first session after B). */
  plugged = false;
  authorized = false;
  transaction: TransactionView | null = null;
  /** Between TransactionFinished and SessionFinished (OCPP: Finishing). */
  finishing = false;
  reserved = false;
  /** Parent id of the token last authorized here (known only to the front end). */
  pendingParent: string | null = null;

  constructor(readonly index: number) {}

  get free(): boolean {
    return this.enabled && this.transaction === null && !this.finishing && !this.authorized;
  }

  observe(e: SessionEvent, now: number): void {
    switch (e.event) {
      case "Enabled":
        this.enabled = true;
        break;
      case "Disabled":
        this.enabled = false;
        break;
      case "SessionStarted":
        this.sessionUuid = e.uuid;
        this.finishing = false;
        this.authorized = false;
        if (e.session_started?.reason === "EVConnected") {
          this.plugged = true;
          this.pluggedAt = now;
        } else {
          this.plugged = false;
          this.pluggedAt = null;
        }
        break;
      case "AuthRequired":
        // Authorize-first sessions see AuthRequired when the car arrives (behavior.md §9.2 row 4).
        if (!this.plugged) {
          this.plugged = true;
          this.pluggedAt = now;
        }
        break;
      case "Authorized":
        this.authorized = true;
        break;
      case "Deauthorized":
        this.authorized = false;
        break;
      case "TransactionStarted": {
        const t = e.transaction_started!;
        this.transaction = { uuid: e.uuid, id_tag: t.id_tag.id_token.value, parent_id_tag: t.id_tag.parent_id_token?.value ?? this.pendingParent, started_at: e.timestamp };
        this.pendingParent = null;
        break;
      }
      case "TransactionFinished":
        if (this.transaction && (e.uuid === "" || e.uuid === this.transaction.uuid)) this.transaction = null;
        if (e.uuid === this.sessionUuid) this.finishing = true;
        this.authorized = false;
        break;
      case "PluginTimeout":
        this.finishing = true;
        break;
      case "SessionFinished":
        this.sessionUuid = null;
        this.plugged = false;
        this.pluggedAt = null;
        this.authorized = false;
        this.finishing = false;
        this.transaction = null;
        this.pendingParent = null;
        break;
      case "ReservationStart":
        this.reserved = true;
        break;
      case "ReservationEnd":
        this.reserved = false;
        break;
      default:
        break;
    }
  }
}
