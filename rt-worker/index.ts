// Public surface of the real-time layer (docs/architecture.md): startBoard() gives the main
// thread one connector's board behind the BoardPort / BoardInput contract.
import type { BoardHandle, BoardOptions } from "./board-handle.ts";
import { startBoard as start, type BoardInternals } from "./host.ts";

export type { BoardHandle, BoardHealth, BoardOptions, SimControl, SimOptions, SimState } from "./board-handle.ts";
export { BoardHost, SIM_DEFAULTS } from "./host.ts";
export type { BoardInternals } from "./host.ts";
export { Trip, TRIP_NAMES } from "./interlocks.ts";
export { adoptOrSpawn, releasePrespawned } from "./prespawn.ts";
export { onEvery } from "./host-ticker.ts";

export function startBoard(options: BoardOptions, internals?: BoardInternals): Promise<BoardHandle> {
  return start(options, internals);
}
