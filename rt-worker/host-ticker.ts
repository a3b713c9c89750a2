// One timer on the main thread for every connector's board host: each tick beats main's
// heartbeat, pings the worker and checks that it answered (host.ts). A timer per host would wake
// the main thread once per connector and period; one timer wakes it once per period, however
// many connectors there are.
export interface Ticking {
  tick(now: number): void;
}

/** Period of the shared tick. Main's heartbeat (the worker trips after 1 s without it) and the
 *  worker's liveness ping both go out this often. */
export const HOST_TICK_MS = 40;

const hosts = new Set<Ticking>();
let timer: ReturnType<typeof setInterval> | null = null;

function tickAll(): void {
  const now = performance.now();
  for (const h of hosts) {
    try {
      h.tick(now);
    } catch (err) {
      console.error("board host tick failed:", err); // one connector's fault must not stop the others' ticks
    }
  }
}

export function joinTicker(host: Ticking): void {
  hosts.add(host);
  timer ??= setInterval(tickAll, HOST_TICK_MS);
}

export function leaveTicker(host: Ticking): void {
  hosts.delete(host);
  if (hosts.size === 0 && timer !== null) {
    clearInterval(timer);
    timer = null;
  }
}
