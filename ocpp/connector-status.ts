// OCPP connector status from session events (ocpp.md §3, libocpp charge_point_state_machine.cpp),
// with the Faulted overlay: while `evse_manager/Inoperative` is active the connector is Faulted
// whatever the stored status; when it clears, the stored status is reported again with NoError.
import type { SessionEvent } from "../core/types/index.ts";

export type ChargePointStatus =
  | "Available"
  | "Preparing"
  | "Charging"
  | "SuspendedEVSE"
  | "SuspendedEV"
  | "Finishing"
  | "Reserved"
  | "Unavailable"
  | "Faulted";

export class ConnectorStatus {
  /** The status the session events give, without the Faulted overlay. */
  stored: ChargePointStatus = "Available";
  private disabled = false;
  private sessionOpen = false;
  private reserved = false;

  /** Applies one session event; returns true when the stored status changed. */
  observe(e: SessionEvent): boolean {
    const before = this.stored;
    switch (e.event) {
      case "Enabled":
        this.disabled = false;
        this.stored = this.reserved ? "Reserved" : "Available";
        break;
      case "Disabled":
        // Also while Preparing [D-O 3].
        this.disabled = true;
        this.stored = "Unavailable";
        break;
      case "SessionStarted":
        this.sessionOpen = true;
        // A plug-in on a reserved connector stays Reserved until the owner authorizes (the kernel
        // then ends the reservation); an authorize-first session has consumed it already.
        if (!this.disabled && !(this.reserved && e.session_started?.reason === "EVConnected")) this.stored = "Preparing";
        break;
      case "ChargingStarted":
      case "ChargingResumed":
        this.stored = "Charging";
        break;
      case "ChargingPausedEV":
        this.stored = "SuspendedEV";
        break;
      case "ChargingPausedEVSE":
      case "WaitingForEnergy":
      case "SwitchingPhases":
        this.stored = "SuspendedEVSE";
        break;
      case "TransactionFinished":
      case "PluginTimeout":
        if (!this.disabled && this.sessionOpen) this.stored = "Finishing";
        break;
      case "SessionFinished":
        this.sessionOpen = false;
        this.stored = this.disabled ? "Unavailable" : this.reserved ? "Reserved" : "Available";
        break;
      case "ReservationStart":
        this.reserved = true;
        if (!this.disabled && !this.sessionOpen) this.stored = "Reserved";
        break;
      case "ReservationEnd":
        this.reserved = false;
        // When the reserved token's session starts, Reserved → Preparing directly [D-O 4].
        if (this.stored === "Reserved") this.stored = this.sessionOpen ? "Preparing" : this.disabled ? "Unavailable" : "Available";
        break;
      default:
        break;
    }
    return this.stored !== before;
  }
}
