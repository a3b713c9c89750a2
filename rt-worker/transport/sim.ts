// The worker's end of a simulated board: the host end of its report rings (board-protocol
// report-ring.ts). Reports in are polled by the worker loop (the board rings the worker's doorbell
// for them). Reports out wake the board at once, except heartbeats that repeat the last report:
// those wait, stamped with the time they were sent, for the board's next step (an idle charger
// then wakes the simulator 4 times a second instead of 14).
import { HostEnd, type BoardLinkInit } from "../../board-protocol/index.ts";
import type { Transport, TransportSink } from "./transport.ts";

export class SimTransport implements Transport {
  readonly kind = "sim" as const;
  readonly #end: HostEnd;
  #sink: TransportSink | null = null;

  constructor(link: BoardLinkInit) {
    this.#end = new HostEnd(link);
  }

  start(sink: TransportSink): void {
    this.#sink = sink;
    sink.link(true, "simulated board");
  }

  poll(): void {
    const sink = this.#sink;
    if (sink === null) return;
    const rx = this.#end.rx;
    for (let r = rx.peek(); r !== null; r = rx.peek()) {
      sink.report(r, r.length);
      rx.shift();
    }
  }

  write(report: Uint8Array, urgent = true): boolean {
    return this.#end.send(report, urgent);
  }

  async close(): Promise<void> {
    this.#sink = null;
  }
}
