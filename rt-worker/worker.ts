// Thread entry of the real-time worker (built as its own entry point: keep this path). The loop
// waits on the worker doorbell with Atomics.waitAsync, so comlink calls (configure, stop,
// self-test) and node-hid callbacks still run on this thread's event loop between passes. It
// sleeps until something rings (main: a request or its liveness ping; the board: a report) or
// until a pass is due on its own (RtLoop.msUntilDue): no periodic wake-ups beyond those.
//
// The wait has no timeout of its own: Bun 1.4.5 keeps the timer of an Atomics.waitAsync that was
// woken by a notify, and it later wakes the thread for nothing (measured: 43 wake-ups a second
// for 20 notified passes with a timeout, 31 without). The due pass comes from one timer that is
// moved, not left behind, when the due time moves.
import * as Comlink from "comlink";
import { setPriority } from "node:os";
import { RtLoop } from "./rt-loop.ts";
import type { BoardLinkInit, DoorbellRef } from "../board-protocol/index.ts";
import { Shm } from "./shm-layout.ts";
import { ownThreadId } from "./liveness.ts";
import { HidTransport, SimTransport, type HidTarget, type Transport } from "./transport/index.ts";
import { startupMark } from "../startup-trace.ts";
startupMark("rt-worker thread evaluated");

/** Nice value the worker asks for (Linux: per thread; needs CAP_SYS_NICE, else it stays at 0). */
const RT_NICE = -10;

export interface WorkerInit {
  sab: SharedArrayBuffer;
  /** Main's event doorbell, rung with every published record (host-ticker.ts). */
  mainBell?: DoorbellRef;
  transport: "sim" | "hid";
  /** transport "sim": the simulated board's report rings and doorbells. */
  link?: BoardLinkInit;
  hid?: HidTarget;
  /** Set when this worker replaces one that died or stalled: what main last received. */
  resume?: { cp: number; relays: boolean; errors: number };
}

let loop: RtLoop | null = null;
let transport: Transport | null = null;
let running = false;
let finished: Promise<void> = Promise.resolve();
let ring: (() => void) | null = null;
let dueTimer: ReturnType<typeof setTimeout> | null = null;
let dueAt = Infinity;

function onDue(): void {
  dueTimer = null;
  dueAt = Infinity;
  ring?.();
}

/** The one timer for the next due pass, moved only when the due time moves. */
function armDue(at: number, now: number): void {
  if (dueTimer !== null) {
    if (Math.abs(at - dueAt) < 0.5) return;
    clearTimeout(dueTimer);
  }
  dueAt = at;
  dueTimer = setTimeout(onDue, at - now);
}

async function run(shm: Shm, l: RtLoop): Promise<void> {
  while (running) {
    const seen = shm.workerDoorbell();
    l.pass();
    const now = performance.now();
    armDue(now + l.msUntilDue(now), now);
    const wait = shm.waitWorkerDoorbell(seen, Infinity);
    if (wait !== null) await wait;
  }
  if (dueTimer !== null) clearTimeout(dueTimer);
  dueTimer = null;
}

const api = {
  start(init: WorkerInit): void {
    if (running) throw new Error("the real-time worker is already running");
    const shm = new Shm(init.sab);
    if (init.mainBell) shm.notifyEventsTo(init.mainBell);
    shm.setWorkerTid(ownThreadId()); // main's look at this thread when a ping goes unanswered
    try {
      setPriority(RT_NICE); // this thread only: it must win the CPU against HTTP load on main
    } catch {
      // not permitted: run at normal priority
    }
    if (init.transport === "sim" && init.link === undefined) throw new Error("a simulated board needs its link");
    transport = init.transport === "sim" ? new SimTransport(init.link!) : new HidTransport(init.hid ?? {});
    loop = new RtLoop(shm, transport, () => performance.now());
    if (init.resume) loop.resumeFrom(init.resume.cp, init.resume.relays, init.resume.errors);
    running = true;
    ring = () => shm.ringWorker();
    loop.start();
    finished = run(shm, loop);
  },
  /** Opens the relays (last output report), then stops the loop and the transport. */
  async stop(): Promise<void> {
    if (!running) return;
    loop?.safeStop();
    running = false;
    ring?.(); // ends the wait
    await finished;
    await transport?.close();
  },
  /** Fault injection for tests: the thread hangs in a busy loop (no passes, no heartbeat), as a
   *  stuck driver call or an endless loop would. Only the host's stallWorker() sends it. */
  stall(ms: number): void {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      // hung on purpose
    }
  },
};

export type WorkerApi = typeof api;

Comlink.expose(api);
