// The worker's own safety decisions (issue 2 item 3): small pure functions of the board state,
// called first for every input report and every loop pass, before anything is published. They
// never wait for the main thread: the relays open here even when the kernel is stuck.
import { AMPACITIES, Cp } from "../board-protocol/index.ts";
import { ampsForDuty, cableAmps, dutyForAtMost } from "../core/pwm.ts";

/** Why the worker refuses to let the relays close (0 = no objection). */
export const Trip = {
  None: 0,
  /** CP is not C or D (C→B, A, E, F, or not known yet). */
  CpNotCharging: 1,
  DiodeFault: 2,
  RcdTripped: 3,
  /** Socket outlet without a readable cable coding. */
  PpLost: 4,
  /** The main thread's heartbeat has not moved for MAIN_SILENCE_MS. */
  MainSilent: 5,
  /** No usable report from the board (lost, or its own watchdog is holding CP F). */
  BoardSilent: 6,
} as const;
export type TripCode = (typeof Trip)[keyof typeof Trip];

export const TRIP_NAMES = ["None", "CpNotCharging", "DiodeFault", "RcdTripped", "PpLost", "MainSilent", "BoardSilent"] as const;

const AMP_NONE = AMPACITIES.indexOf("None");

export interface InterlockInput {
  /** Reports arrive and the board is not in its own watchdog state. */
  boardLink: boolean;
  /** CpState code, -1 = not known. */
  cp: number;
  diodeFault: boolean;
  rcdTripped: boolean;
  socket: boolean;
  ampacity: number;
  /** ms since the main heartbeat last moved. */
  mainSilentMs: number;
  mainSilenceLimitMs: number;
}

/** The first reason that forbids closed relays, in order of the physical urgency. */
export function powerTrip(i: InterlockInput): TripCode {
  if (!i.boardLink) return Trip.BoardSilent;
  if (i.cp !== Cp.C && i.cp !== Cp.D) return Trip.CpNotCharging;
  if (i.diodeFault) return Trip.DiodeFault;
  if (i.rcdTripped) return Trip.RcdTripped;
  if (i.socket && i.ampacity === AMP_NONE) return Trip.PpLost;
  if (i.mainSilentMs >= i.mainSilenceLimitMs) return Trip.MainSilent;
  return Trip.None;
}

/** Duty the worker lets through (0.01 %): never more current than the cable carries (socket
 *  outlets only; a tethered cable is rated for the station). -1 = do not offer PWM at all. */
export function limitDuty(duty: number, socket: boolean, ampacity: number, threePhases: boolean): number {
  if (!socket) return duty;
  const cap = cableAmps(AMPACITIES[ampacity] ?? "None", threePhases);
  if (cap === 0) return -1;
  return ampsForDuty(duty / 100) > cap ? dutyForAtMost(cap) : duty;
}
