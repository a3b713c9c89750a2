// What the main thread gets back from startBoard(): one connector's board, reached through the
// real-time worker. The kernel talks to `port` and listens with `onInput`; the API reads
// `sim` (simulated board only) and `health`.
import type { BoardInput, BoardPort } from "../core/ports.ts";
import type { SimControl, SimOptions } from "../board-protocol/index.ts";

export type { SimControl, SimOptions, SimState } from "../board-protocol/index.ts";

export interface BoardOptions {
  /** "sim": simulated board + car (BoardInternals.simulator); "hid": a real board over node-hid. */
  kind: "sim" | "hid";
  /** 1-based EVSE index, used in thread names and logs. */
  index: number;
  hid?: { path?: string; vendor_id?: number; product_id?: number };
  /** The `sim.*` options of simulation.md §5 item 6 (validated by the config schema). */
  sim?: SimOptions;
}

export interface BoardHealth {
  worker_running: boolean;
  board_answering: boolean;
  /** While the board does not answer: why the transport has none (the HID transport's last error). */
  board_error?: string;
}

export interface BoardHandle {
  port: BoardPort;
  /** Inputs are delivered in the order the board produced them. */
  onInput(listener: (input: BoardInput) => void): void;
  sim: SimControl | null;
  health(): BoardHealth;
  /** The PWM duty (percent) the board last reported generating; null without PWM (site balancing
   *  raises a share only once the lowered offers are in effect). */
  reportedDutyPercent(): number | null;
  /** Opens the relays, stops the threads. */
  stop(): Promise<void>;
}
