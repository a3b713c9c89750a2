// The one reservation of this EVSE (behavior.md §12). Whether a reservation may be taken at all
// (enabled, not faulted, Idle without session) is the kernel's call; this file holds the id rules.

/** −1 stands for "reserved without a specific id" (any negative id given). */
export type ReserveOutcome = "accepted" | "repeat" | "refused";

export class Reservation {
  private id: number | null = null;

  get active(): boolean {
    return this.id !== null;
  }

  get reservationId(): number | null {
    return this.id;
  }

  reserve(requested: number): ReserveOutcome {
    const id = requested < 0 ? -1 : requested;
    if (this.id === null) {
      this.id = id;
      return "accepted";
    }
    if (this.id === id) return "repeat"; // [Q20]: no second ReservationStart
    if (this.id === -1 && id >= 0) {
      this.id = id;
      return "accepted";
    }
    return "refused";
  }

  /** Clears the reservation; returns the id it had, or null if there was none. */
  take(): number | null {
    const id = this.id;
    this.id = null;
    return id;
  }
}
