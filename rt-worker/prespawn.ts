// Board threads started before the program needs them. A thread needs some 10 ms of CPU to boot
// its own engine and code: launch.ts starts the first connector's real-time worker right away, so
// its boot overlaps main.ts loading, and main.ts starts the simulated boards' thread as soon as the
// configuration says the board is simulated, so that one boots while the store, kernel and API
// load. One at a time: with both booting beside main.ts on a 2-core gateway, three threads shared
// two cores and the main thread's loading, the longest step of a start, took some 8 ms longer.
// A thread needs no configuration to boot (it gets it with start()), so nothing is decided early;
// startBoard() adopts them. Threads nobody adopts are terminated by releasePrespawned().
//
// launch.js and main.js share this module (build.ts splits shared modules into chunks of their
// own), so its pool is the same for both.
import { threadEntry } from "./thread-entry.ts";

export type ThreadRole = "rt-worker" | "sim-board";

const ENTRY: Record<ThreadRole, string> = { "rt-worker": "rt-worker/worker.ts", "sim-board": "sim/board/thread.ts" };
const pool = new Map<string, Worker>();

/** The thread's name, as everywhere: rt-worker-1 for connector 1's worker; the one thread of the
 *  simulated boards (sim/board/boards.ts) is sim-boards. */
function threadName(role: ThreadRole, index: number): string {
  return role === "sim-board" ? "sim-boards" : `${role}-${index}`;
}

/** The thread `role` of connector `index` (any index for the sim-board thread). */
export function spawnThread(role: ThreadRole, index: number): Worker {
  return new Worker(threadEntry(ENTRY[role]), { name: threadName(role, index) } as WorkerOptions);
}

/** launch.ts: the first connector's worker, before main.ts loads. */
export function prespawnFirstWorker(): void {
  prespawn("rt-worker", 1);
}

/** main.ts, once the configuration says the board is simulated: the simulated boards' thread. */
export function prespawnSimulator(): void {
  prespawn("sim-board", 0);
}

function prespawn(role: ThreadRole, index: number): void {
  const key = threadName(role, index);
  if (!pool.has(key)) pool.set(key, spawnThread(role, index));
}

/** The thread `role` of connector `index`: the prespawned one if there is one, else a new one. */
export function adoptOrSpawn(role: ThreadRole, index: number): Worker {
  const key = threadName(role, index);
  const ready = pool.get(key);
  if (ready) {
    pool.delete(key);
    return ready;
  }
  return spawnThread(role, index);
}

/** Terminates the threads nobody adopted. */
export function releasePrespawned(): void {
  for (const worker of pool.values()) worker.terminate();
  pool.clear();
}
