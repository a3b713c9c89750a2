// Thread entry of the real-time worker (built as its own entry point: keep this path). The loop
// waits on the worker doorbell with Atomics.waitAsync, so comlink calls (configure, stop,
// self-test) and node-hid callbacks still run on this thread's event loop between passes. It
// sleeps until something rings (main: a request or its liveness ping; the board: a report) or
// until a pass is due on its own (RtLoop.msUntilDue): no periodic wake-ups beyond those.
import * as Comlink from "comlink";
import { setPriority } from "node:os";
import { RtLoop } from "./rt-loop.ts";
import { Shm } from "./shm-layout.ts";
import { HidTransport, SimTransport, type HidTarget, type Transport } from "./transport/index.ts";

/** Nice value the worker asks for (Linux: per thread; needs CAP_SYS_NICE, else it stays at 0). */
const RT_NICE = -10;

export interface WorkerInit {
  sab: SharedArrayBuffer;
  /** The sim thread's doorbell, shared by every connector (Shm); null for a real board. */
  simBell?: SharedArrayBuffer | null;
  transport: "sim" | "hid";
  hid?: HidTarget;
  /** Set when this worker replaces one that died or stalled: what main last received. */
  resume?: { cp: number; relays: boolean; errors: number };
}

let loop: RtLoop | null = null;
let transport: Transport | null = null;
let running = false;
let finished: Promise<void> = Promise.resolve();

async function run(shm: Shm, l: RtLoop): Promise<void> {
  while (running) {
    const seen = shm.workerDoorbell();
    l.pass();
    const wait = shm.waitWorkerDoorbell(seen, l.msUntilDue(performance.now()));
    if (wait !== null) await wait;
  }
}

const api = {
  start(init: WorkerInit): void {
    if (running) throw new Error("the real-time worker is already running");
    const shm = new Shm(init.sab, init.simBell ?? null);
    try {
      setPriority(RT_NICE); // this thread only: it must win the CPU against HTTP load on main
    } catch {
      // not permitted: run at normal priority
    }
    transport = init.transport === "sim" ? new SimTransport(shm) : new HidTransport(init.hid ?? {});
    loop = new RtLoop(shm, transport, () => performance.now());
    if (init.resume) loop.resumeFrom(init.resume.cp, init.resume.relays, init.resume.errors);
    running = true;
    loop.start();
    finished = run(shm, loop);
  },
  /** Opens the relays (last output report), then stops the loop and the transport. */
  async stop(): Promise<void> {
    if (!running) return;
    loop?.safeStop();
    running = false;
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
  status(): { running: boolean; trip: number; link: string; hidError: string } {
    return {
      running,
      trip: loop?.trip() ?? 0,
      link: loop?.linkDetail ?? "",
      hidError: transport instanceof HidTransport ? transport.lastError : "",
    };
  },
};

export type WorkerApi = typeof api;

Comlink.expose(api);
