// Board and kernel errors as OCPP 1.6 ChargePointErrorCode (ocpp.md §3). The RCD is a ground
// fault to a back office [D-O 9]; anything without its own code is OtherError.
export type ChargePointErrorCode =
  | "ConnectorLockFailure"
  | "EVCommunicationError"
  | "GroundFailure"
  | "HighTemperature"
  | "InternalError"
  | "LocalListConflict"
  | "NoError"
  | "OtherError"
  | "OverCurrentFailure"
  | "PowerMeterFailure"
  | "PowerSwitchFailure"
  | "ReaderFailure"
  | "ResetFailure"
  | "UnderVoltage"
  | "OverVoltage"
  | "WeakSignal";

const BY_NAME: Record<string, ChargePointErrorCode> = {
  MREC2GroundFailure: "GroundFailure",
  MREC3HighTemperature: "HighTemperature",
  MREC4OverCurrentFailure: "OverCurrentFailure",
  MREC5OverVoltage: "OverVoltage",
  MREC6UnderVoltage: "UnderVoltage",
};

/** `type` is "<list>/<Name>", e.g. "evse_board_support/MREC2GroundFailure". */
export function ocppErrorCode(type: string): ChargePointErrorCode {
  const [list, name = ""] = type.split("/", 2);
  if (list === "connector_lock") return "ConnectorLockFailure";
  if (list === "ac_rcd") return "GroundFailure";
  return BY_NAME[name] ?? "OtherError";
}

/** OCPP 1.6 limits vendorErrorCode and info to 50 characters. */
export const clip50 = (s: string): string => (s.length <= 50 ? s : s.slice(0, 50));
