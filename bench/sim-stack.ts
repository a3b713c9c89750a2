// The whole charging stack of one connector in one thread under a fake clock, for the soak run:
// the real Kernel, the real worker loop (RtLoop) on the real shared-memory layout, and the real
// simulated board physics with the real scripted car, joined by the same report bytes the
// threads exchange. What the threads add (doorbells, rings, timers) is replaced by direct calls
// in the order the threads make them, so hours of charging run in seconds without real sleeps.
import { defaultEvseConfig, type EvseConfig } from "../core/config/index.ts";
import { Kernel } from "../core/index.ts";
import type { VariableName } from "../core/kernel-api.ts";
import type { BoardInput } from "../core/ports.ts";
import { recordToInput } from "../rt-worker/board-inputs.ts";
import { RtLoop } from "../rt-worker/rt-loop.ts";
import { REPORT_SIZE } from "../board-protocol/index.ts";
import { Shm } from "../rt-worker/shm-layout.ts";
import { ShmBoardPort } from "../rt-worker/shm-board-port.ts";
import type { Transport, TransportSink } from "../rt-worker/transport/transport.ts";
import { BOARD_STEP_MS, SimBoard, SIM_METER_ID, type SimBoardOptions } from "../sim/board/physics.ts";
import { Car } from "../sim/car/index.ts";
import { MemoryStore } from "../test/kernel-harness.ts";

/** The host's kernel timer (HostTimer in main.ts ticks every 100 ms). */
export const KERNEL_TICK_MS = 100;
/** Granularity of the simulated time: the worker passes at least this often. */
export const STACK_STEP_MS = 50;

/** Reports from the board wait here until the worker's next pass, as in the b2h ring. */
class InProcessTransport implements Transport {
  readonly kind = "sim" as const;
  #sink: TransportSink | null = null;
  readonly #queue: Uint8Array[] = [];
  constructor(private readonly deliverToBoard: (report: Uint8Array) => void) {}
  start(sink: TransportSink): void {
    this.#sink = sink;
    sink.link(true, "in-process simulated board");
  }
  poll(): void {
    const sink = this.#sink;
    if (sink === null) return;
    for (let r = this.#queue.shift(); r !== undefined; r = this.#queue.shift()) sink.report(r, r.length);
  }
  push(report: Uint8Array): void {
    this.#queue.push(report.slice(0, REPORT_SIZE));
  }
  write(report: Uint8Array): boolean {
    this.deliverToBoard(report);
    return true;
  }
  async close(): Promise<void> {}
}

export interface StackOptions {
  board?: Partial<SimBoardOptions>;
  config?: Partial<EvseConfig>;
  /** Every publication, synchronously and in order (the soak keeps only what it needs). */
  publish(name: VariableName, value: unknown): void;
  /** Epoch ms the fake clock starts at. */
  t0?: number;
}

export class SimStack {
  now: number;
  readonly shm = Shm.create();
  readonly board: SimBoard;
  readonly car = new Car();
  readonly loop: RtLoop;
  readonly kernel: Kernel;
  readonly #transport: InProcessTransport;
  #uuids = 0;
  #sinceTick = 0;
  #sinceBoard = 0;
  readonly #ctx: { meterId: string; now: () => number };

  constructor(opts: StackOptions) {
    this.now = opts.t0 ?? Date.parse("2025-03-01T12:00:00.000Z");
    this.board = new SimBoard(
      { max_current_A_import: 32, connector_type: "IEC62196Type2Cable", pp_resistor_ohm: 220.1, weld_relays: false, seed: 1, ...opts.board },
      this.now,
    );
    this.#transport = new InProcessTransport((r) => this.board.hostReport(r, r.length, this.now));
    this.loop = new RtLoop(this.shm, this.#transport, () => this.now);
    const port = new ShmBoardPort(this.shm, () => this.loop.pass());
    const clock = { now: () => this.now };
    this.#ctx = { meterId: SIM_METER_ID, now: clock.now };
    this.kernel = new Kernel({
      clock,
      board: port,
      meter: null,
      store: new MemoryStore(),
      config: { ...defaultEvseConfig(), ...opts.config },
      publish: opts.publish,
      log: () => {},
      newUuid: () => `s-${++this.#uuids}`,
      nodeId: "evse_manager_1",
    });
    this.loop.start();
    this.kernel.boot();
  }

  /** Board inputs waiting in the event ring go to the kernel in ring order. */
  #drain(): void {
    const shm = this.shm;
    let tail = shm.eventTail();
    const head = shm.eventHead();
    while (tail !== head) {
      const input: BoardInput | null = recordToInput(shm.events, Shm.eventOffset(tail), this.#ctx);
      tail++;
      shm.setEventTail(tail);
      if (input !== null) this.kernel.boardInput(input);
    }
  }

  /** One STACK_STEP_MS of simulated time: main beat, worker pass, board step every 250 ms,
   *  kernel tick every 100 ms, each followed by delivering what it produced. */
  async step(): Promise<void> {
    this.now += STACK_STEP_MS;
    this.shm.beatMain();
    this.#sinceBoard += STACK_STEP_MS;
    if (this.#sinceBoard >= BOARD_STEP_MS) {
      this.#sinceBoard -= BOARD_STEP_MS;
      this.board.applyCar(this.car.step(this.board.carInputs()));
      this.board.step(this.now, (r) => this.#transport.push(r));
    }
    this.loop.pass();
    this.#drain();
    this.#sinceTick += STACK_STEP_MS;
    if (this.#sinceTick >= KERNEL_TICK_MS) {
      this.#sinceTick -= KERNEL_TICK_MS;
      void this.kernel.tick();
    }
    await this.kernel.idle();
    this.#drain(); // outputs of the kernel's reaction may already have an answer from the worker
    await this.kernel.idle();
  }

  async run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += STACK_STEP_MS) await this.step();
  }

  /** Worker counters: reports in/out/rejected and dropped events (must stay 0 in a soak). */
  counters() {
    return this.shm.counters();
  }
}
