// One timer on the main thread for every connector's board host and for the kernels' tick: each
// tick beats main's heartbeat, pings the workers and checks that they answered (host.ts); every
// second tick runs the kernels' 100 ms tick (main.ts). Likewise one event doorbell that every
// worker rings when it publishes a record: main wakes once and drains every connector's ring. A timer per host, and one more for the
// kernels, would each wake the main thread on its own (and wake-ups, not the work done in them,
// are most of what an idle charger costs); one timer wakes it once per period, however many
// connectors there are.
import type { DoorbellRef } from "../board-protocol/index.ts";

export interface Ticking {
  tick(now: number): void;
  /** New records may be in this host's event ring. */
  drainEvents(): void;
}

/** Period of the shared tick. Main's heartbeat (the worker trips after 1 s without it) and the
 *  workers' liveness ping go out this often. */
export const HOST_TICK_MS = 50;

const hosts = new Set<Ticking>();
const periodic = new Set<{ every: number; run: () => void }>();
let timer: ReturnType<typeof setInterval> | null = null;
let count = 0;

function tickAll(): void {
  const now = performance.now();
  count++;
  // One failure must not stop the other ticks.
  for (const h of hosts) {
    try {
      h.tick(now);
    } catch (err) {
      console.error("board host tick failed:", err);
    }
  }
  for (const p of periodic) {
    if (count % p.every !== 0) continue;
    try {
      p.run();
    } catch (err) {
      console.error("periodic tick failed:", err);
    }
  }
}

function ensureTimer(): void {
  timer ??= setInterval(tickAll, HOST_TICK_MS);
}

function releaseTimer(): void {
  if (hosts.size === 0 && periodic.size === 0 && timer !== null) {
    clearInterval(timer);
    timer = null;
  }
}

const eventBell = new Int32Array(new SharedArrayBuffer(4));
let waiting = false;

/** The doorbell a worker rings for main (Shm.notifyEventsTo). */
export const MAIN_EVENT_BELL: DoorbellRef = { sab: eventBell.buffer as SharedArrayBuffer, index: 0 };

/** Drains every host's ring whenever a worker rings; no timeout (see rt-worker/worker.ts on Bun's
 *  waitAsync timers): leaveTicker() rings to end it. */
async function waitEvents(): Promise<void> {
  waiting = true;
  try {
    while (hosts.size > 0) {
      const seen = Atomics.load(eventBell, 0);
      for (const h of hosts) {
        try {
          h.drainEvents();
        } catch (err) {
          console.error("board event drain failed:", err);
        }
      }
      const r = Atomics.waitAsync(eventBell, 0, seen);
      if (r.async) await r.value;
    }
  } finally {
    waiting = false;
  }
}

export function joinTicker(host: Ticking): void {
  hosts.add(host);
  ensureTimer();
  if (!waiting) void waitEvents();
}

export function leaveTicker(host: Ticking): void {
  hosts.delete(host);
  releaseTimer();
  if (hosts.size === 0) {
    Atomics.add(eventBell, 0, 1);
    Atomics.notify(eventBell, 0);
  }
}

/** Runs `run` every `periodMs` (a multiple of HOST_TICK_MS) on the shared tick, after the board
 *  hosts' part of it; returns the function that stops it. */
export function onEvery(periodMs: number, run: () => void): () => void {
  const every = Math.round(periodMs / HOST_TICK_MS);
  if (every < 1 || every * HOST_TICK_MS !== periodMs) throw new RangeError(`onEvery: ${periodMs} ms is not a multiple of ${HOST_TICK_MS} ms`);
  const entry = { every, run };
  periodic.add(entry);
  ensureTimer();
  return () => {
    periodic.delete(entry);
    releaseTimer();
  };
}
