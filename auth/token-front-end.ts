// The authorization front end (ocpp.md §2): a presented token stops the transaction it (or its
// parent) runs, or is validated and authorizes one EVSE through `authorize_response`. EVSE choice
// (§2.3): the one named, else the one plugged most recently without an authorized session, else the
// first free one; a reserved EVSE only for its reservation's token. An authorization not followed by
// a plug-in within ConnectionTimeOut is withdrawn.
import type { EvseKernel } from "../core/kernel-api.ts";
import type { AuthorizationType, IdToken, ProvidedIdToken, ValidationResult } from "../core/types/index.ts";
import type { EvseView } from "./evse-view.ts";
import { sameTag, type IdTagStatus } from "./id-tag-info.ts";
import type { TokenValidator } from "./validator.ts";

export type TokenResultKind = "Authorized" | "Stopped" | "Rejected" | "NoConnectorAvailable" | "AlreadyInProcess";

export interface TokenResult {
  result: TokenResultKind;
  authorization_status: IdTagStatus | null;
  evse: number | null;
}

export interface TokenRequest {
  id_token: IdToken;
  authorization_type: AuthorizationType;
  evse?: number;
  /** Already validated by its provider (OCPP RemoteStartTransaction without AuthorizeRemoteTxRequests). */
  prevalidated?: boolean;
}

export interface FrontEndEvse {
  view: EvseView;
  kernel: Pick<EvseKernel, "command">;
  faulted(): boolean;
}

/** A reservation as the front end sees it (OCPP ReserveNow). */
export interface ReservationEntry {
  id: number;
  evse: number;
  idTag: string;
  parentIdTag?: string;
}

export interface TokenFrontEndOptions {
  evses: FrontEndEvse[];
  validator: TokenValidator;
  connectionTimeoutS(): number;
  reservationOn(evse: number): ReservationEntry | null;
  log(line: string): void;
}

export class TokenFrontEnd {
  private readonly inFlight = new Set<string>();
  /** Per EVSE: the token value authorized there and not yet used by a transaction. */
  private readonly waiting = new Map<number, string>();
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();

  constructor(private readonly o: TokenFrontEndOptions) {}

  /** Feed every session event after the EvseView has seen it. */
  sessionEvent(evse: number, event: string): void {
    if (event === "TransactionStarted" || event === "SessionFinished" || event === "Deauthorized" || event === "PluginTimeout" || event === "Disabled") {
      this.waiting.delete(evse);
      this.clearTimer(evse);
    }
  }

  private clearTimer(evse: number): void {
    const t = this.timers.get(evse);
    if (t !== undefined) clearTimeout(t);
    this.timers.delete(evse);
  }

  private reservationMatches(r: ReservationEntry, idTag: string, parent: string | undefined): boolean {
    return sameTag(r.idTag, idTag) || (r.parentIdTag !== undefined && sameTag(r.parentIdTag, parent));
  }

  /** Can EVSE `e` take a new authorization for this token? `parent` undefined = not known yet (optimistic). */
  private canTake(e: FrontEndEvse, idTag: string, parent: string | undefined, parentKnown: boolean): boolean {
    const v = e.view;
    if (!v.enabled || e.faulted() || v.transaction !== null || v.finishing || v.authorized || this.waiting.has(v.index)) return false;
    if (v.reserved) {
      const r = this.o.reservationOn(v.index);
      if (r && !this.reservationMatches(r, idTag, parent) && parentKnown) return false;
    }
    return true;
  }

  /** Why an EVSE cannot take a new authorization, for the log. */
  private busy(e: FrontEndEvse): string {
    const v = e.view;
    if (!v.enabled) return "disabled";
    if (e.faulted()) return "faulted";
    if (v.transaction) return "transaction running";
    if (v.finishing) return "finishing";
    if (v.authorized || this.waiting.has(v.index)) return "already authorized";
    return v.reserved ? "reserved" : "free";
  }

  private select(idTag: string, parent: string | undefined, parentKnown: boolean, wanted?: number): FrontEndEvse | null {
    const all = this.o.evses;
    if (wanted !== undefined) {
      const e = all[wanted - 1];
      return e && this.canTake(e, idTag, parent, parentKnown) ? e : null;
    }
    const usable = all.filter((e) => this.canTake(e, idTag, parent, parentKnown));
    const reservedForMe = usable.find((e) => {
      const r = e.view.reserved ? this.o.reservationOn(e.view.index) : null;
      return r !== null && this.reservationMatches(r, idTag, parent);
    });
    if (reservedForMe) return reservedForMe;
    const plugged = usable.filter((e) => e.view.plugged && e.view.pluggedAt !== null).sort((a, b) => b.view.pluggedAt! - a.view.pluggedAt!);
    if (plugged[0]) return plugged[0];
    return usable.find((e) => !e.view.plugged && !(e.view.reserved && this.o.reservationOn(e.view.index) !== null)) ?? usable.find((e) => !e.view.plugged) ?? null;
  }

  async present(req: TokenRequest): Promise<TokenResult> {
    const idTag = req.id_token.value;
    const key = idTag.toLowerCase();
    if (this.inFlight.has(key)) return { result: "AlreadyInProcess", authorization_status: null, evse: null };
    const rfid = req.authorization_type === "RFID";
    const provided = (parent?: string): ProvidedIdToken => ({
      id_token: req.id_token,
      authorization_type: req.authorization_type,
      ...(parent ? { parent_id_token: { value: parent, type: "Central" as const } } : {}),
      ...(req.prevalidated ? { prevalidated: true } : {}),
    });

    // §2.2: the same token stops its own transaction, without asking anyone.
    if (rfid) {
      const own = this.o.evses.find((e) => e.view.transaction && sameTag(e.view.transaction.id_tag, idTag));
      if (own && (req.evse === undefined || req.evse === own.view.index)) {
        const ok = await own.kernel.command("stop_transaction", { request: { reason: "Local", id_tag: provided() } });
        if (ok === true) return { result: "Stopped", authorization_status: null, evse: own.view.index };
      }
    }
    for (const [evse, waitingTag] of this.waiting) {
      if (sameTag(waitingTag, idTag)) return { result: "AlreadyInProcess", authorization_status: null, evse };
    }
    const anyTransaction = this.o.evses.some((e) => e.view.transaction !== null);
    if (!this.select(idTag, undefined, false, req.evse) && !(rfid && anyTransaction)) {
      this.o.log(`token ${idTag}: no EVSE can take it (${this.o.evses.map((e) => `${e.view.index}: ${this.busy(e)}`).join("; ")})`);
      return { result: "NoConnectorAvailable", authorization_status: null, evse: null };
    }

    this.inFlight.add(key);
    let verdict;
    try {
      verdict = req.prevalidated ? { status: "Accepted" as const, source: "csms" as const } : await this.o.validator.validate(idTag);
    } finally {
      this.inFlight.delete(key);
    }
    const parent = verdict.parentIdTag;

    // §2.2: a token of the same group stops a running transaction, unless it can start its own.
    const target = this.select(idTag, parent, true, req.evse);
    if (rfid && parent !== undefined && !target) {
      const group = this.o.evses.find((e) => e.view.transaction && sameTag(e.view.transaction.parent_id_tag, parent));
      if (group) {
        const ok = await group.kernel.command("stop_transaction", { request: { reason: "Local", id_tag: provided(parent) } });
        if (ok === true) return { result: "Stopped", authorization_status: verdict.status, evse: group.view.index };
      }
    }
    if (verdict.status !== "Accepted") return { result: "Rejected", authorization_status: verdict.status, evse: null };
    if (!target) {
      this.o.log(`token ${idTag}: no EVSE can take it (${this.o.evses.map((e) => `${e.view.index}: ${this.busy(e)}`).join("; ")})`);
      return { result: "NoConnectorAvailable", authorization_status: verdict.status, evse: null };
    }

    const index = target.view.index;
    const reservation = target.view.reserved ? this.o.reservationOn(index) : null;
    const validation: ValidationResult = {
      authorization_status: "Accepted",
      ...(verdict.expiryDate ? { expiry_time: verdict.expiryDate } : {}),
      ...(parent ? { parent_id_token: { value: parent, type: "Central" as const } } : {}),
      ...(reservation ? { reservation_id: reservation.id } : {}),
    };
    target.view.pendingParent = parent ?? null;
    this.waiting.set(index, idTag);
    await target.kernel.command("authorize_response", { provided_token: provided(parent), validation_result: validation });
    this.o.log(`token ${idTag} (${verdict.source}) authorized EVSE ${index}`);
    if (!target.view.plugged) {
      this.clearTimer(index);
      this.timers.set(
        index,
        setTimeout(() => {
          this.timers.delete(index);
          if (target.view.transaction === null && !target.view.plugged && this.waiting.has(index)) {
            this.waiting.delete(index);
            this.o.log(`authorization on EVSE ${index} withdrawn: no plug-in within ConnectionTimeOut`);
            void target.kernel.command("withdraw_authorization", {}).catch(() => {});
          }
        }, this.o.connectionTimeoutS() * 1000),
      );
    } else if (target.view.transaction !== null) {
      this.waiting.delete(index);
    }
    return { result: "Authorized", authorization_status: "Accepted", evse: index };
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
