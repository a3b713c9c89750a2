// The CSMS's reservations (ReserveNow, ocpp.md §5.6): which EVSE holds which reservation for which
// id tag (or parent) until when. The kernel holds the reservation itself (`reserve`); this book adds
// what OCPP knows and the kernel does not: the token, the expiry, the reservation ids.
import type { ReservationEntry } from "../auth/token-front-end.ts";

export interface ReservationRecord extends ReservationEntry {
  expiry: number;
}

export class ReservationBook {
  private readonly entries = new Map<number, ReservationRecord & { timer: ReturnType<typeof setTimeout> }>();

  constructor(
    private readonly now: () => number,
    /** Ends the reservation in the kernel (`cancel_reservation` → ReservationEnd). */
    private readonly cancelInKernel: (evse: number) => void,
    private readonly log: (line: string) => void,
  ) {}

  get(id: number): ReservationRecord | null {
    return this.entries.get(id) ?? null;
  }

  on(evse: number): ReservationRecord | null {
    for (const r of this.entries.values()) if (r.evse === evse) return r;
    return null;
  }

  /** Adds (or replaces) a reservation the kernel has accepted; it expires at `expiry`. */
  add(r: ReservationRecord): void {
    this.forget(r.id);
    const timer = setTimeout(() => {
      this.log(`ocpp: reservation ${r.id} expired`);
      this.drop(r.id);
    }, Math.max(0, r.expiry - this.now()));
    this.entries.set(r.id, { ...r, timer });
  }

  /** Ends a reservation: forgotten here and cancelled in the kernel. False for an unknown id. */
  drop(id: number): boolean {
    const r = this.entries.get(id);
    if (!this.forget(id)) return false;
    this.cancelInKernel(r!.evse);
    return true;
  }

  /** Forgets a reservation the kernel has already ended (consumed, disabled, faulted). */
  forget(id: number): boolean {
    const r = this.entries.get(id);
    if (!r) return false;
    clearTimeout(r.timer);
    this.entries.delete(id);
    return true;
  }

  /** Every reservation of an EVSE: the kernel ended it (ReservationEnd) or it became faulted. */
  forgetEvse(evse: number): void {
    for (const r of [...this.entries.values()]) if (r.evse === evse) this.forget(r.id);
  }

  clear(): void {
    for (const r of this.entries.values()) clearTimeout(r.timer);
    this.entries.clear();
  }
}
