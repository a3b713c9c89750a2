// One timer on the main thread for every connector's board host and for the kernels' tick: each
// tick beats main's heartbeat, pings the workers and checks that they answered (host.ts); every
// second tick runs the kernels' 100 ms tick (main.ts). A timer per host, and one more for the
// kernels, would each wake the main thread on its own (and wake-ups, not the work done in them,
// are most of what an idle charger costs); one timer wakes it once per period, however many
// connectors there are.
export interface Ticking {
  tick(now: number): void;
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

export function joinTicker(host: Ticking): void {
  hosts.add(host);
  ensureTimer();
}

export function leaveTicker(host: Ticking): void {
  hosts.delete(host);
  releaseTimer();
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
