// Board threads started before the program has loaded. A thread needs some 20 ms to boot its own
// engine and code, and the compiled binary's main thread needs as long to load main.ts: launch.ts
// starts the first connector's two threads (real-time worker and simulated board) right away, so
// both boots overlap, and startBoard() adopts them. A thread needs no configuration to boot (it
// gets it with start()), so nothing is decided early. Threads nobody adopts are terminated by
// releasePrespawned(): an hid board needs no simulator.
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

/** launch.ts: the first connector's worker and the simulated boards' thread, before main.ts loads. */
export function prespawnFirstBoard(): void {
  for (const role of ["rt-worker", "sim-board"] as const) pool.set(threadName(role, 1), spawnThread(role, 1));
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
