// What each view asks the event stream for (GET …/events?types=).

/** The overview card needs neither telemetry nor the key, hardware or protocol variables. */
export const OVERVIEW_TYPES = ["session_event", "powermeter", "limits", "enforced_limits", "ready", "evse_id", "errors"];
/** The detail view: the 14 variables of the interface and the errors (a test keeps the list equal
 * to core's VARIABLE_NAMES; core is not imported here, it would pull Node types into the page). */
export const DETAIL_TYPES = [
  "session_event",
  "limits",
  "ev_info",
  "car_manufacturer",
  "telemetry",
  "powermeter",
  "powermeter_public_key_ocmf",
  "evse_id",
  "hw_capabilities",
  "iso15118_certificate_request",
  "enforced_limits",
  "waiting_for_external_ready",
  "ready",
  "selected_protocol",
  "errors",
];
