// The worker's end of the simulated board: two report rings on the shared buffer and the sim
// thread's doorbell. Reports in are polled by the worker loop (woken by the same doorbell main
// uses). Reports out wake the sim thread at once, except heartbeats that repeat the last report:
// those wait, stamped with the time they were sent, for the board's next step (an idle charger
// then wakes the sim thread 4 times a second instead of 14).
import type { Shm } from "../shm-layout.ts";
import { ReportRing } from "./report-ring.ts";
import type { Transport, TransportSink } from "./transport.ts";

export class SimTransport implements Transport {
  readonly kind = "sim" as const;
  readonly #shm: Shm;
  readonly #rx: ReportRing;
  readonly #tx: ReportRing;
  #sink: TransportSink | null = null;

  constructor(shm: Shm) {
    this.#shm = shm;
    this.#rx = new ReportRing(shm.ringCounters(), shm.ringIndices("b2h"), shm.b2h);
    this.#tx = new ReportRing(shm.ringCounters(), shm.ringIndices("h2b"), shm.h2b, shm.h2bTimes);
  }

  start(sink: TransportSink): void {
    this.#sink = sink;
    sink.link(true, "simulated board");
  }

  poll(): void {
    const sink = this.#sink;
    if (sink === null) return;
    for (let r = this.#rx.peek(); r !== null; r = this.#rx.peek()) {
      sink.report(r, r.length);
      this.#rx.shift();
    }
  }

  write(report: Uint8Array, urgent = true): boolean {
    const ok = this.#tx.push(report);
    if (urgent) this.#shm.ringSim();
    return ok;
  }

  async close(): Promise<void> {
    this.#sink = null;
  }
}

/** The sim board's end of the same rings (used in sim/board/thread.ts). */
export class SimBoardPort {
  readonly #shm: Shm;
  readonly #rx: ReportRing;
  readonly #tx: ReportRing;

  constructor(shm: Shm) {
    this.#shm = shm;
    this.#rx = new ReportRing(shm.ringCounters(), shm.ringIndices("h2b"), shm.h2b, shm.h2bTimes);
    this.#tx = new ReportRing(shm.ringCounters(), shm.ringIndices("b2h"), shm.b2h);
  }

  /** Sends one input report to the worker and wakes it. */
  send(report: Uint8Array): boolean {
    const ok = this.#tx.push(report);
    this.#shm.ringWorker();
    return ok;
  }

  /** The oldest output report from the worker (valid until next()), or null. */
  peek(): Uint8Array | null {
    return this.#rx.peek();
  }

  /** When the worker sent the report peek() returned, on this thread's performance.now() clock. */
  sentAt(): number {
    return this.#rx.peekTime() - performance.timeOrigin;
  }

  next(): void {
    this.#rx.shift();
  }
}
