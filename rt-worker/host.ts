// The main-thread end of one connector's board: spawns the real-time worker (and, for a simulated
// board, attaches one through the simulator factory main passes in), serves the kernel's BoardPort (shm-board-port.ts writes
// the requested outputs into shared memory and rings the worker), drains the event ring in order
// to the onInput listeners, and beats the heartbeat the worker watches. Main never waits on the
// worker: the event ring is drained when a worker rings main's event doorbell and on the shared
// tick (host-ticker.ts), which also pings the worker: a worker that does not answer is dead, hung
// or starved of CPU (liveness.ts tells which).
import * as Comlink from "comlink";
import type { BoardInput } from "../core/ports.ts";
import * as v from "valibot";
import { SimOptionsSchema } from "../core/config/evse-options.ts";
import { newBoardLink, type BenchOptions, type SimControl, type SimOptions, type SimulatedBoard, type SimulatorFactory } from "../board-protocol/index.ts";
import type { BoardHandle, BoardHealth, BoardOptions } from "./board-handle.ts";
import { recordToInput, type RecordContext } from "./board-inputs.ts";
import { ShmBoardPort } from "./shm-board-port.ts";
import { adoptOrSpawn } from "./prespawn.ts";
import { emptyBoardView, InputKind, Shm } from "./shm-layout.ts";
import type { WorkerApi, WorkerInit } from "./worker.ts";
import { HOST_TICK_MS, joinTicker, leaveTicker, MAIN_EVENT_BELL } from "./host-ticker.ts";
import { judgeSilence, probeThread, PROBE_MS, type FailureCause, type ThreadSample } from "./liveness.ts";

/** Every tick (host-ticker.ts HOST_TICK_MS, 50 ms) pings the worker: it wakes, runs a pass and
 *  beats. A ping still unanswered at the next tick means the worker died, hangs, or is merely not
 *  scheduled on a loaded machine; liveness.ts tells them apart from the thread's /proc entry, so a
 *  dead or hung worker is noticed one tick (50 ms, +PROBE_MS for a busy one, more when main itself
 *  is late) after its last beat, and a starved one gets up to MAX_SILENCE_MS. A live worker that
 *  runs answers within a millisecond. The worker has no timer of its own for this: an idle worker
 *  wakes for the pings, and its board heartbeat rides on them (rt-loop.ts). */
const WORKER_SILENCE_MS = 45;
/** Right after a worker starts it may block for a while loading the node-hid addon: silence
 *  counts only from START_SILENCE_MS during the first START_GRACE_MS. */
const START_GRACE_MS = 2000;
const START_SILENCE_MS = 1000;
/** The replacement starts this long after the failure was noticed: past the board's own 500 ms
 *  watchdog and its next 250 ms step, so the board has opened the relays and driven CP F by
 *  itself first, independently of any software on this side. A failed restart retries as late. */
const RESTART_DELAY_MS = 1000;
/** Worker up again, the board answering and the relays reported open on this many watch
 *  samples in a row: the kernel has the resumed worker's first events before the all-clear. */
const RECOVERED_SAMPLES = 3;

/** Raised into the kernel while no real-time worker runs the board (blocking: the kernel derives
 *  evse_manager/Inoperative, behavior.md §14.2); cleared once a new worker talks to the board. */
export const WORKER_FAULT = { type: "evse_board_support/CommunicationFault", sub_type: "rt_worker" } as const;

/** The `sim.*` defaults: the config schema's (core/config SimOptionsSchema). */
export const SIM_DEFAULTS: SimOptions = v.parse(SimOptionsSchema, {});
/** The powermeter's meter_id until the board's INFO report has named its meter. */
const UNNAMED_METER = "BOARD_POWERMETER";

/** What startBoard needs beside the BoardOptions contract. */
export interface BoardInternals {
  /** Runs simulated boards (kind "sim"): main passes sim/board's, so this layer needs nothing from sim/. */
  simulator?: SimulatorFactory;
  /** The sim board starts in bench mode (no physics steps, no car). */
  simBench?: boolean;
  /** keep_plug_state_across_restart: the car starts plugged in. */
  simStartPluggedIn?: boolean;
  /** The simulated meter's accumulators (Wh per phase) as the previous process left them. */
  simStartMeter?: { import_Wh: number[]; export_Wh: number[] };
}

export class BoardHost implements BoardHandle {
  readonly shm: Shm;
  /** The kernel's commands, written into shared memory for the worker. */
  readonly port: ShmBoardPort;
  sim: SimControl | null = null;
  #simBoard: SimulatedBoard | null = null;
  #worker: Worker;
  #workerApi: Comlink.Remote<WorkerApi>;
  readonly #spawnWorker: () => Worker;
  #init: WorkerInit | null = null;
  readonly #listeners: ((input: BoardInput) => void)[] = [];
  readonly #view = emptyBoardView();
  readonly #recordContext: RecordContext;
  #textVersion = -1;
  #meterId = UNNAMED_METER;
  #linkError = "";
  #stopped = false;
  #workerKilled = false;
  #draining = false;
  #workerBeat = -1;
  #workerBeatAt = performance.now();
  /** When main pinged the worker and is still waiting for a beat (null: it answered). */
  #pingAt: number | null = null;
  /** The first look at the worker's thread during the current silence, and the second one due. */
  #firstLook: ThreadSample | null = null;
  #probeTimer: ReturnType<typeof setTimeout> | null = null;
  #lastTickAt = -1;
  #watching = false;
  #graceUntil = 0;
  /** "down": no worker runs the board; "recovering": a new one runs, the board not yet back. */
  #fault: "none" | "down" | "recovering" = "none";
  #recovery: Promise<void> | null = null;
  #recoveredSamples = 0;
  #boardWasAnswering = false;
  /** What the kernel last received, for a restarted worker to diff against (RtLoop.resumeFrom). */
  #seenCp = -1;
  #seenRelays = false;
  #seenErrors = 0;
  /** Worker restarts so far, and how long main took to notice the last failure (ms since the
   *  worker's last beat); for tests, metrics and logs. */
  restarts = 0;
  lastDetectionMs: number | null = null;
  /** What liveness.ts found the last failed worker to be (dead, busy, blocked or silent). */
  lastFailureCause: FailureCause | null = null;
  /** Checks that found the silent worker starved (runnable, not scheduled) and waited on. */
  starvedWaits = 0;

  constructor(shm: Shm, spawnWorker: () => Worker) {
    this.shm = shm;
    this.port = new ShmBoardPort(shm, () => shm.ringWorker(), () => !this.#stopped);
    this.#spawnWorker = spawnWorker;
    this.#worker = spawnWorker();
    this.#workerApi = Comlink.wrap<WorkerApi>(this.#worker as any);
    const host = this;
    this.#recordContext = {
      get meterId() {
        return host.#text().meterId;
      },
      now: () => Date.now(),
    };
  }

  /** Heartbeat and event delivery start here; the worker watches the heartbeat from now on. */
  begin(): void {
    this.shm.beatMain();
    joinTicker(this);
  }

  async startWorker(init: WorkerInit): Promise<void> {
    this.#init = init;
    await this.#workerApi.start(init);
    this.#graceUntil = performance.now() + START_GRACE_MS;
    this.#sampleWorker(true);
    this.#watching = true;
  }

  // ---- crash safety: a dead or hung worker is noticed, reported and replaced ---------------------
  #watchWorker(now: number, lateMs: number): void {
    this.#sampleWorker();
    this.#checkSilence(now, lateMs);
    if (this.#fault === "recovering") {
      this.#drain();
      // Back means: the board answers the new worker and the kernel has been told the relays are
      // open (the sim board switches them on its next 250 ms step), only then the all-clear.
      if (this.#fault !== "recovering") return;
      if (!this.#boardWasAnswering || (this.shm.boardLink() && !this.#seenRelays)) {
        if (++this.#recoveredSamples >= RECOVERED_SAMPLES) this.#recovered();
      } else this.#recoveredSamples = 0;
    }
  }

  /** An unanswered ping: fails the worker when liveness.ts finds it dead or hung (in recovery too:
   *  the new worker failed as well, start over). `lateMs`: how late main ran this check. */
  #checkSilence(now: number, lateMs: number): void {
    if (this.#fault === "down" || !this.#unanswered(now)) return;
    // The thread's /proc entry is read here only, on this rare path: never while pings are answered.
    const look = probeThread(this.shm.workerTid());
    const verdict = judgeSilence({ waitedMs: now - this.#pingAt!, first: this.#firstLook, now: look, lateMs });
    if (verdict.kind === "probe") this.#firstLook = look as ThreadSample;
    if (verdict.kind === "wait") this.starvedWaits++;
    // Undecided with the thread in sight: look again soon, so a busy loop that gets only a
    // sliver of a loaded CPU is caught once it has burnt BUSY_CPU_MS, not a tick later.
    if (verdict.kind !== "failed") {
      if (look !== null) this.#probeSoon();
    } else {
      this.#fault = "none";
      this.#workerFailed(now - this.#workerBeatAt, verdict.why);
    }
  }

  /** The next look at a silent worker's thread, PROBE_MS from now. */
  #probeSoon(): void {
    if (this.#probeTimer !== null) return;
    const due = performance.now() + PROBE_MS;
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = null;
      if (this.#stopped || !this.#watching) return;
      this.#sampleWorker();
      const now = performance.now();
      this.#checkSilence(now, Math.max(0, now - due));
    }, PROBE_MS);
  }

  /** The last ping has waited too long for a beat. */
  #unanswered(now: number): boolean {
    const limit = now < this.#graceUntil ? START_SILENCE_MS : WORKER_SILENCE_MS;
    return this.#pingAt !== null && now - this.#pingAt >= limit;
  }

  #workerFailed(silentMs: number, why: FailureCause): void {
    this.lastDetectionMs = Math.round(silentMs);
    this.lastFailureCause = why;
    this.#fault = "down";
    this.#boardWasAnswering = this.shm.boardLink();
    // The old worker's last events first, so the kernel gets everything in board order.
    this.#drain();
    // Fail safe whatever the kernel does next: the new worker starts without relay permission.
    // The board's own watchdog opens the relays if no worker comes back within 500 ms.
    this.port.requested.allow = false;
    this.port.requested.allowReason = 0;
    this.shm.writeRequested(this.port.requested);
    this.#emit({
      kind: "error_raised",
      type: WORKER_FAULT.type,
      sub_type: WORKER_FAULT.sub_type,
      message: `the real-time worker stopped (${FAILURE_TEXT[why]}, no heartbeat for ${this.lastDetectionMs} ms); the board's watchdog opens the relays, a new worker starts in ${RESTART_DELAY_MS} ms`,
      severity: "High",
    });
    this.#recovery ??= this.#restart().finally(() => (this.#recovery = null));
  }

  async #restart(): Promise<void> {
    this.#discardWorker(); // a hung worker must not wake up and drive the board again
    while (!this.#stopped && this.#fault === "down") {
      await new Promise((r) => setTimeout(r, RESTART_DELAY_MS));
      if (this.#stopped) return;
      this.#discardWorker();
      try {
        this.#worker = this.#spawnWorker();
        this.#workerApi = Comlink.wrap<WorkerApi>(this.#worker as any);
        this.#workerKilled = false;
        const resume = { cp: this.#seenCp, relays: this.#seenRelays, errors: this.#seenErrors };
        const started = withTimeout(() => this.#workerApi.start({ ...this.#init!, resume }).then(() => true), 2000);
        if ((await started) !== true) throw new Error("the new worker did not start within 2 s");
        if (this.#stopped) return; // stop() ends the new worker
        this.restarts++;
        this.#graceUntil = performance.now() + START_GRACE_MS;
        this.#sampleWorker(true);
        this.#recoveredSamples = 0;
        this.#fault = "recovering";
        this.#write(); // the kernel's latest request, seq bumped: the new loop reads it at once
      } catch (err) {
        console.error(`real-time worker restart failed: ${(err as Error).message}`);
      }
    }
  }

  /** Ends the current worker whatever state it is in (terminate also ends a busy loop). */
  #discardWorker(): void {
    if (this.#workerKilled) return;
    releaseQuietly(this.#workerApi);
    this.#workerKilled = true;
    this.#worker.terminate();
  }

  #recovered(): void {
    this.#fault = "none";
    this.#drain(); // the new worker's resync events reach the kernel before the all-clear
    this.#emit({ kind: "error_cleared", type: WORKER_FAULT.type, sub_type: WORKER_FAULT.sub_type });
  }

  #emit(input: BoardInput): void {
    for (const l of this.#listeners) {
      try {
        l(input);
      } catch (err) {
        console.error(`board input listener failed on ${input.kind}:`, err);
      }
    }
  }

  /** The shared tick (host-ticker.ts): main's heartbeat, the worker check, events, the ping. */
  tick(now: number): void {
    if (this.#stopped) return;
    // Main's own tick coming late means the whole process waits for a CPU (liveness.ts).
    const lateMs = this.#lastTickAt < 0 ? 0 : Math.max(0, now - this.#lastTickAt - HOST_TICK_MS);
    this.#lastTickAt = now;
    this.shm.beatMain();
    if (this.#watching) this.#watchWorker(now, lateMs);
    this.#drain();
    if (this.#watching && this.#fault !== "down") {
      this.#pingAt ??= now;
      this.shm.ringWorker();
    }
  }

  /** host-ticker.ts: a worker rang main's event doorbell. */
  drainEvents(): void {
    this.#drain();
  }

  #drain(): void {
    if (this.#listeners.length === 0 || this.#draining) return;
    this.#draining = true;
    try {
      const ctx = this.#recordContext;
      let tail = this.shm.eventTail();
      const head = this.shm.eventHead();
      while (tail !== head) {
        const o = Shm.eventOffset(tail);
        this.#track(o);
        const input = recordToInput(this.shm.events, o, ctx);
        tail++;
        this.shm.setEventTail(tail);
        if (input === null) continue;
        this.#emit(input);
      }
    } finally {
      this.#draining = false;
    }
  }

  // ---- BoardHandle -------------------------------------------------------------------------
  onInput(listener: (input: BoardInput) => void): void {
    this.#listeners.push(listener);
    // Inputs that arrived before the first listener wait in the ring; deliver them after the
    // caller finished wiring (main.ts registers, then boots the kernel, in one turn).
    queueMicrotask(() => this.#drain());
  }

  #track(o: number): void {
    const e = this.shm.events;
    const value = e[o + 1]!;
    switch (e[o]) {
      case InputKind.CpEvent:
        this.#seenCp = value;
        break;
      case InputKind.PowerEvent:
        this.#seenRelays = value === 1;
        break;
      case InputKind.ErrorRaised:
        this.#seenErrors |= 1 << value;
        break;
      case InputKind.ErrorCleared:
        this.#seenErrors &= ~(1 << value);
        break;
    }
  }

  #sampleWorker(restart = false): void {
    const beat = this.shm.workerBeat();
    if (restart || beat !== this.#workerBeat) {
      this.#workerBeat = beat;
      this.#workerBeatAt = performance.now();
      this.#pingAt = null;
      this.#firstLook = null;
    }
  }

  health(): BoardHealth {
    this.#sampleWorker();
    // A silent worker counts as running until judged dead or hung (a starved one is alive).
    const worker_running = !this.#stopped && this.#fault !== "down";
    const board_answering = worker_running && this.shm.boardLink();
    const { linkError } = this.#text();
    return board_answering || linkError === "" ? { worker_running, board_answering } : { worker_running, board_answering, board_error: linkError };
  }

  /** The worker's text fields (INFO meter id, transport error), decoded again only when they changed. */
  #text(): { meterId: string; linkError: string } {
    const version = this.shm.textVersion();
    if (version !== this.#textVersion) {
      const t = this.shm.readText();
      if (t !== null) {
        this.#textVersion = version;
        this.#meterId = t.meterId === "" ? UNNAMED_METER : t.meterId;
        this.#linkError = t.linkError;
      }
    }
    return { meterId: this.#meterId, linkError: this.#linkError };
  }

  /** Counters for metrics: reports in/out, rejected, interlock trips, dropped events. */
  counters() {
    return this.shm.counters();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    leaveTicker(this);
    if (this.#probeTimer !== null) clearTimeout(this.#probeTimer);
    this.#drain();
    // A restart under way ends first, so no worker outlives the host.
    if (this.#recovery) await withTimeout(() => this.#recovery!, 2500);
    if (this.#fault === "none" && !this.#workerKilled) await this.#awaitRelaysOpen(600);
    // The worker sends a last report with the relays open before it stops.
    if (!this.#workerKilled) await withTimeout(() => this.#workerApi.stop(), 1000);
    const simBoard = this.#simBoard;
    if (simBoard) await withTimeout(() => simBoard.stop(), 1000);
    // Release the proxy while the thread still lives: otherwise comlink's finalizer later
    // posts a release to a terminated worker and the rejection surfaces far from here.
    this.#releaseProxies();
    this.#worker.terminate();
  }

  /** Shutdown: the kernel has withdrawn permission; wait (bounded) for the board to report the
   *  relays open (the sim board switches on its 250 ms step), so the threads stop after it. */
  async #awaitRelaysOpen(ms: number): Promise<void> {
    const end = performance.now() + ms;
    const v = this.#view;
    while (performance.now() < end) {
      if (!this.shm.readBoard(v) || !v.link || !v.relays || this.port.requested.allow) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The PWM duty (percent) the board last reported generating; null without PWM or report. */
  reportedDutyPercent(): number | null {
    const v = this.#view;
    return this.shm.readBoard(v) && v.link && v.pwm >= 0 ? v.pwm / 100 : null;
  }

  /** The relays as the board last reported them (false while no board report arrived). */
  relaysClosed(): boolean {
    const v = this.#view;
    return this.shm.readBoard(v) && v.relays;
  }

  #releaseProxies(): void {
    if (!this.#workerKilled) releaseQuietly(this.#workerApi);
  }

  #write(): void {
    this.port.write();
  }

  /** Fault injection for tests: the worker thread dies without a last report, as a crash would. */
  killWorker(): void {
    this.#releaseProxies();
    this.#worker.terminate();
    this.#workerKilled = true;
  }

  /** Fault injection for tests: the worker thread hangs in a busy loop for `ms`, as a stuck
   *  driver call would; main must notice and replace it. */
  stallWorker(ms: number): void {
    this.#workerApi.stall(ms).catch(() => {}); // the answer never comes: the thread is replaced
  }

  /** Bench mode only: runs the C↔B toggles on the sim thread; µs on the sim clock. */
  async bench(opts: BenchOptions): Promise<Float64Array> {
    if (!this.#simBoard) throw new Error("bench needs the simulated board");
    return this.#simBoard.bench(opts);
  }

  /** startBoard: the simulated board this host's worker talks to. */
  attachSim(board: SimulatedBoard): void {
    this.#simBoard = board;
    this.sim = board.control;
  }
}


/** Why the worker counts as failed, for the error message. */
const FAILURE_TEXT: Record<FailureCause, string> = {
  dead: "its thread is gone",
  busy: "busy without answering",
  blocked: "blocked without answering",
  silent: "no answer",
};

/** A thread call that may fail or hang (a crashed thread) must not stop the shutdown. */
async function withTimeout<T>(call: () => Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([call(), t]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** Spawns the threads and returns once the worker runs (the board may still be absent for hid). */
export async function startBoard(options: BoardOptions, internals: BoardInternals = {}): Promise<BoardHost> {
  const sim = options.kind === "sim" ? { ...SIM_DEFAULTS, ...(options.sim ?? {}) } : null;
  if (sim && !internals.simulator) throw new Error("a simulated board needs the simulator (BoardInternals.simulator)");
  const shm = Shm.create();
  // A replacement worker after a crash is a new thread: only the first can have been prespawned.
  const spawnWorker = () => adoptOrSpawn("rt-worker", options.index);
  const host = new BoardHost(shm, spawnWorker);
  try {
    let link: WorkerInit["link"];
    let attaching: Promise<SimulatedBoard> | undefined;
    if (sim) {
      const simulator = internals.simulator!;
      link = { link: newBoardLink(), hostBell: shm.workerBell(), boardBell: simulator.boardBell };
      attaching = simulator.attach({
        link: link.link,
        hostBell: link.hostBell,
        options: sim,
        startPluggedIn: internals.simStartPluggedIn === true,
        ...(internals.simStartMeter ? { startMeter: internals.simStartMeter } : {}),
        bench: internals.simBench === true,
      });
    }
    host.begin();
    // The board and the worker start side by side, each on its own thread, and this thread takes
    // both answers whenever it is next free (at start-up it is loading the kernel meanwhile). The
    // worker's first reports wait in the ring until the board is there to read them.
    const [board, worker] = await Promise.allSettled([attaching, host.startWorker({ sab: shm.sab, mainBell: MAIN_EVENT_BELL, transport: options.kind, ...(link ? { link } : {}), ...(options.hid ? { hid: options.hid } : {}) })]);
    if (board.status === "fulfilled" && board.value) host.attachSim(board.value); // so that stop() below stops it too
    if (board.status === "rejected") throw board.reason;
    if (worker.status === "rejected") throw worker.reason;
  } catch (err) {
    await host.stop().catch(() => {});
    throw err;
  }
  return host;
}

/** A proxy that was already released (or whose thread is gone) has nothing left to free. */
function releaseQuietly(api: Comlink.Remote<unknown>): void {
  try {
    // Typed void, but comlink returns the release message's promise: it rejects once the thread is gone.
    Promise.resolve(api[Comlink.releaseProxy]() as unknown).catch(() => {});
  } catch {
    // already released
  }
}
