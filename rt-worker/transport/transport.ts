// One interface for the two ways to reach a board (style guide: Hono's routers behind one
// Router): `sim` (the simulated board thread, over shared-memory rings) and `hid` (node-hid).
// The worker cannot tell them apart: both carry the report bytes of docs/board-protocol.md.

export interface TransportSink {
  /** One input report; `bytes` is only valid during the call. */
  report(bytes: Uint8Array, length: number): void;
  /** The device came (true) or went (false); `detail` says which device or why. */
  link(up: boolean, detail: string): void;
  /** Why no device could be opened (each new reason once); shown in /healthz. */
  problem?(message: string): void;
}

export interface Transport {
  readonly kind: "sim" | "hid";
  start(sink: TransportSink): void;
  /** Delivers reports already waiting (the sim ring); hid delivers from its own callbacks. */
  poll(): void;
  /** Sends one output report without waiting; false when it could not be queued. `urgent` is
   *  false for a heartbeat that repeats the last report: a transport may deliver it lazily (the
   *  simulated board takes it at its next step instead of being woken for it). */
  write(report: Uint8Array, urgent?: boolean): boolean;
  close(): Promise<void>;
}
