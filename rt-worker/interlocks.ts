// The worker's own safety decisions (issue 2 item 3): small pure functions of the board state,
// called first for every input report and every loop pass, before anything is published. They
// never wait for the main thread: the relays open here even when the kernel is stuck.
import { AMPACITIES, CP_STATES } from "./shm-layout.ts";

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

/** CP and ampacity codes, as shm-layout numbers them. */
const CP_C = CP_STATES.indexOf("C");
const CP_D = CP_STATES.indexOf("D");
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
  if (i.cp !== CP_C && i.cp !== CP_D) return Trip.CpNotCharging;
  if (i.diodeFault) return Trip.DiodeFault;
  if (i.rcdTripped) return Trip.RcdTripped;
  if (i.socket && i.ampacity === AMP_NONE) return Trip.PpLost;
  if (i.mainSilentMs >= i.mainSilenceLimitMs) return Trip.MainSilent;
  return Trip.None;
}

/** IEC 61851-1 duty → current as the EV reads it (standards.md §1.4), duty in 0.01 %. */
export function dutyToAmps(duty: number): number {
  if (duty < 800) return 0;
  if (duty < 1000) return 6;
  if (duty <= 8500) return (duty * 6) / 1000;
  if (duty <= 9600) return (duty - 6400) / 40;
  if (duty <= 9700) return 80;
  return 0;
}

/** The largest duty (0.01 %) whose current does not exceed `amps` (amps ≥ 6). */
export function dutyForAtMost(amps: number): number {
  if (amps >= 80) return 9600;
  if (amps <= 51) return Math.floor((amps / 0.6) * 100 + 1e-9);
  return Math.floor((amps / 2.5 + 64) * 100 + 1e-9);
}

/** Cable rating of an ampacity code; 0 for None. 63 A three-phase / 70 A single-phase. */
export function cableAmps(ampacity: number, threePhases: boolean): number {
  switch (ampacity) {
    case 1:
      return 13;
    case 2:
      return 20;
    case 3:
      return 32;
    case 4:
      return threePhases ? 63 : 70;
    default:
      return 0;
  }
}

/** Duty the worker lets through (0.01 %): never more current than the cable carries (socket
 *  outlets only; a tethered cable is rated for the station). -1 = do not offer PWM at all. */
export function limitDuty(duty: number, socket: boolean, ampacity: number, threePhases: boolean): number {
  if (!socket) return duty;
  const cap = cableAmps(ampacity, threePhases);
  if (cap === 0) return -1;
  return dutyToAmps(duty) > cap ? dutyForAtMost(cap) : duty;
}
