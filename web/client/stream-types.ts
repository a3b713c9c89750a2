// What each view asks the event stream for (GET …/events?types=).
import { VARIABLE_NAMES } from "../../core/kernel-api.ts";

/** The overview card needs neither telemetry nor the key, hardware or protocol variables. */
export const OVERVIEW_TYPES = ["session_event", "powermeter", "limits", "enforced_limits", "ready", "evse_id", "errors"];
/** The detail view: the 14 variables of the interface and the errors. */
export const DETAIL_TYPES = [...VARIABLE_NAMES, "errors"];
