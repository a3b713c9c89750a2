// Error bits of the STATE report (bytes 22-23, docs/board-protocol.md §6) and the EVerest error
// each one raises (interface.md §4: "<list>/<Name>"). The worker only diffs bits; main turns a bit
// into error_raised / error_cleared with these names; the simulated board sets them.

export const BoardErrorBit = {
  DiodeFault: 0,
  RcdDC: 1,
  RcdAC: 2,
  RcdSelftest: 3,
  PilotFault: 4,
  ProximityFault: 5,
  HighTemperature: 6,
  OverCurrent: 7,
  LockFailedLock: 8,
  LockFailedUnlock: 9,
  LockUnexpectedOpen: 10,
  BrownOut: 11,
  EmergencyStop: 12,
  PowerLoss: 13,
  OverVoltage: 14,
  UnderVoltage: 15,
} as const;

export interface BoardErrorInfo {
  type: string;
  message: string;
}

/** Index = bit. Contactor welding is not here on purpose: the kernel raises
 *  MREC17EVSEContactorFault itself from the relay feedback (behavior.md D8). */
export const BOARD_ERRORS: readonly BoardErrorInfo[] = [
  { type: "evse_board_support/DiodeFault", message: "CP diode fault: the negative half-wave is missing while PWM runs" },
  { type: "ac_rcd/DC", message: "residual current above 5 mA (DC); the board opened the relays" },
  { type: "ac_rcd/AC", message: "AC residual current trip; the board opened the relays" },
  { type: "ac_rcd/Selftest", message: "RCD self-test failed" },
  { type: "evse_board_support/MREC14PilotFault", message: "CP voltage out of range" },
  { type: "evse_board_support/MREC23ProximityFault", message: "PP resistance out of range" },
  { type: "evse_board_support/MREC3HighTemperature", message: "board over-temperature" },
  { type: "evse_board_support/MREC4OverCurrentFailure", message: "hardware over-current trip" },
  { type: "connector_lock/ConnectorLockFailedLock", message: "connector lock did not lock" },
  { type: "connector_lock/ConnectorLockFailedUnlock", message: "connector lock did not unlock" },
  { type: "connector_lock/ConnectorLockUnexpectedOpen", message: "connector lock opened unexpectedly" },
  { type: "evse_board_support/BrownOut", message: "board brown-out" },
  { type: "evse_board_support/MREC8EmergencyStop", message: "emergency stop pressed" },
  { type: "evse_board_support/MREC15PowerLoss", message: "mains power lost" },
  { type: "evse_board_support/MREC5OverVoltage", message: "supply voltage too high" },
  { type: "evse_board_support/MREC6UnderVoltage", message: "supply voltage too low" },
];

export function errorBit(bit: number): number {
  return 1 << bit;
}
