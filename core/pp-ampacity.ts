// The cable's current limit from the proximity pilot (behavior.md §7.5), for Type 2 sockets.
import type { BoardPort } from "./ports.ts";
import { cableAmps } from "./pwm.ts";
import type { Ampacity } from "./types/index.ts";

/** Amperes for a PP ampacity; 0 = no cable. The 63/70 A coding is 70 A on a one-phase board [Q10]. */
export function ampacityA(ampacity: Ampacity, maxPhaseCountImport: number | undefined): number {
  return cableAmps(ampacity, maxPhaseCountImport !== 1);
}

/** The board's PP reading in amperes; 0 when it is unknown or the read fails (logged). */
export function readCableLimitA(board: BoardPort, maxPhaseCountImport: number | undefined, log: (line: string) => void): number {
  let ampacity: Ampacity;
  try {
    ampacity = board.ac_read_pp_ampacity().ampacity;
  } catch (err) {
    log(`ac_read_pp_ampacity failed: ${(err as Error).message}`);
    return 0;
  }
  return ampacityA(ampacity, maxPhaseCountImport);
}
