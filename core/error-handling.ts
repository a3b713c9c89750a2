// Active errors, their blocking classification and the derived evse_manager/Inoperative
// (behavior.md §14.1–14.2). Reference: ErrorHandling.cpp, without its single boolean: the set of
// active errors is the truth and "faulted" is derived from it.
import type { ActiveError } from "./kernel-api.ts";
import type { Clock, ErrorSeverity } from "./ports.ts";

export const INOPERATIVE = "evse_manager/Inoperative";
export const SET_FAULTED_SUB_TYPE = "set_faulted";
export const CONTACTOR_FAULT = "evse_board_support/MREC17EVSEContactorFault";
export const OVER_CURRENT_FAILURE = "evse_manager/MREC4OverCurrentFailure";
export const INTERNAL_ERROR = "evse_manager/Internal";
export const POWERMETER_START_FAILED = "evse_manager/PowermeterTransactionStartFailed";

/** Our own errors that the CP unplug event clears (§14.3; set_faulted per D12). */
export const CLEARED_ON_UNPLUG: ReadonlyArray<readonly [string, string]> = [
  [OVER_CURRENT_FAILURE, ""],
  [INTERNAL_ERROR, ""],
  [POWERMETER_START_FAILED, ""],
  [INOPERATIVE, SET_FAULTED_SUB_TYPE],
];

/** Errors that do not stop charging (behavior.md §14.1); the dashboard's status reads the same table. */
export const NON_BLOCKING: ReadonlySet<string> = new Set([
  "evse_board_support/MREC3HighTemperature",
  "evse_board_support/MREC18CableOverTempDerate",
  "evse_board_support/VendorWarning",
  "connector_lock/VendorWarning",
  "ac_rcd/VendorWarning",
  "isolation_monitor/VendorWarning",
  "power_supply_DC/VendorWarning",
]);

/** Order in which the derived Inoperative picks its message: own, board, lock, RCD, meter. */
function sourceRank(type: string): number {
  if (type.startsWith("evse_manager/") || type === CONTACTOR_FAULT) return 0;
  if (type.startsWith("evse_board_support/")) return 1;
  if (type.startsWith("connector_lock/")) return 2;
  if (type.startsWith("ac_rcd/")) return 3;
  if (type.startsWith("powermeter/")) return 4;
  return 5;
}

export class ErrorHandling {
  private active: ActiveError[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly newUuid: () => string,
    private readonly failOnPowermeterErrors: boolean,
  ) {}

  isBlocking(type: string, sub_type: string): boolean {
    if (type === INOPERATIVE) return sub_type !== "";
    if (NON_BLOCKING.has(type)) return false;
    if (type.startsWith("powermeter/")) return this.failOnPowermeterErrors;
    return true;
  }

  isActive(type: string, sub_type = ""): boolean {
    return this.active.some((e) => e.type === type && e.sub_type === sub_type);
  }

  /** At least one blocking error is active. */
  isFaulted(): boolean {
    return this.active.some((e) => this.isBlocking(e.type, e.sub_type));
  }

  /** Returns false if that error (type and sub_type) was already active. */
  raise(type: string, sub_type: string, message: string, severity: ErrorSeverity): boolean {
    if (this.isActive(type, sub_type)) return false;
    this.active.push({
      type,
      sub_type,
      message,
      severity,
      state: "Active",
      timestamp: new Date(this.clock.now()).toISOString(),
      uuid: this.newUuid(),
    });
    this.updateDerived();
    return true;
  }

  clear(type: string, sub_type = ""): boolean {
    const before = this.active.length;
    this.active = this.active.filter((e) => !(e.type === type && e.sub_type === sub_type));
    if (this.active.length === before) return false;
    this.updateDerived();
    return true;
  }

  list(): ActiveError[] {
    return this.active.map((e) => ({ ...e }));
  }

  /** §14.2: raised by the first blocking cause other than any Inoperative, cleared when none is left. */
  private updateDerived(): void {
    const causes = this.active
      .filter((e) => e.type !== INOPERATIVE && this.isBlocking(e.type, e.sub_type))
      .sort((a, b) => sourceRank(a.type) - sourceRank(b.type));
    const derivedActive = this.isActive(INOPERATIVE, "");
    if (causes.length > 0 && !derivedActive) {
      this.active.push({
        type: INOPERATIVE,
        sub_type: "",
        message: causes[0]!.type,
        severity: "High",
        state: "Active",
        timestamp: new Date(this.clock.now()).toISOString(),
        uuid: this.newUuid(),
      });
    } else if (causes.length === 0 && derivedActive) {
      this.active = this.active.filter((e) => !(e.type === INOPERATIVE && e.sub_type === ""));
    }
  }
}
