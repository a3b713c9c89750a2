// The wire between the host and a simulated board: two single-producer single-consumer rings of
// 64-byte reports on one SharedArrayBuffer (`BoardLink`), one per direction, and a doorbell on
// each side. The producer never waits: a full ring drops the report and counts it, because a stale
// report is worth less than a fresh one and the next one follows within 100 ms. Host → board
// reports carry the time they were sent: the simulated board takes a heartbeat at its next step,
// not when it arrives, and its watchdog still counts from the moment it was sent.
import { REPORT_SIZE } from "./codes.ts";

/** Report slots per ring. */
export const RING_SLOTS = 64;

// Int32 counters at the start of the link buffer; the writer in brackets.
const C = {
  B2H_HEAD: 0, // [board]
  B2H_TAIL: 1, // [host]
  B2H_DROPPED: 2, // [board]
  H2B_HEAD: 3, // [host]
  H2B_TAIL: 4, // [board]
  H2B_DROPPED: 5, // [host]
  COUNT: 8,
} as const;
const B2H_OFFSET = C.COUNT * 4;
const H2B_OFFSET = B2H_OFFSET + RING_SLOTS * REPORT_SIZE;
const H2B_TIMES_OFFSET = H2B_OFFSET + RING_SLOTS * REPORT_SIZE;
export const LINK_BYTES = H2B_TIMES_OFFSET + RING_SLOTS * 8;

/** Milliseconds on a clock every thread of the process reads alike (each thread's performance.now()
 *  counts from its own start). */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

/** One Int32 slot that a side sleeps on and the other rings (notify). */
export interface DoorbellRef {
  sab: SharedArrayBuffer;
  index: number;
}

export class Doorbell {
  readonly #i32: Int32Array;
  readonly #at: number;

  constructor(ref: DoorbellRef) {
    this.#i32 = new Int32Array(ref.sab);
    this.#at = ref.index;
  }

  ring(): void {
    Atomics.add(this.#i32, this.#at, 1);
    Atomics.notify(this.#i32, this.#at);
  }
  value(): number {
    return Atomics.load(this.#i32, this.#at);
  }
  /** Resolves when the bell moves away from `seen` or after timeoutMs; null when it already has. */
  wait(seen: number, timeoutMs: number): Promise<unknown> | null {
    const r = Atomics.waitAsync(this.#i32, this.#at, seen, timeoutMs);
    return r.async ? r.value : null;
  }
  /** Blocking wait (a thread's own loop, never main). */
  waitSync(seen: number, timeoutMs: number): void {
    Atomics.wait(this.#i32, this.#at, seen, timeoutMs);
  }
}

export class ReportRing {
  readonly #counters: Int32Array;
  readonly #head: number;
  readonly #tail: number;
  readonly #dropped: number;
  readonly #slots: Uint8Array[];
  readonly #times: Float64Array | null;

  constructor(counters: Int32Array, idx: { head: number; tail: number; dropped: number }, bytes: Uint8Array, times: Float64Array | null = null) {
    this.#counters = counters;
    this.#head = idx.head;
    this.#tail = idx.tail;
    this.#dropped = idx.dropped;
    this.#times = times;
    const n = Math.floor(bytes.length / REPORT_SIZE);
    // Views made once, so neither side allocates per report.
    this.#slots = Array.from({ length: n }, (_, s) => bytes.subarray(s * REPORT_SIZE, (s + 1) * REPORT_SIZE));
  }

  /** Producer. Copies up to 64 bytes (zero-padded); false when the ring was full. */
  push(report: Uint8Array, length = report.length): boolean {
    const head = Atomics.load(this.#counters, this.#head);
    const tail = Atomics.load(this.#counters, this.#tail);
    if (head - tail >= this.#slots.length) {
      Atomics.add(this.#counters, this.#dropped, 1);
      return false;
    }
    const slot = this.#slots[head % this.#slots.length]!;
    const n = length < REPORT_SIZE ? length : REPORT_SIZE;
    for (let k = 0; k < n; k++) slot[k] = report[k]!;
    for (let k = n; k < REPORT_SIZE; k++) slot[k] = 0;
    if (this.#times !== null) this.#times[head % this.#slots.length] = sharedNow();
    Atomics.store(this.#counters, this.#head, head + 1);
    return true;
  }

  /** Consumer: the oldest report (valid until shift()), or null. */
  peek(): Uint8Array | null {
    const tail = Atomics.load(this.#counters, this.#tail);
    if (tail === Atomics.load(this.#counters, this.#head)) return null;
    return this.#slots[tail % this.#slots.length]!;
  }

  /** Consumer: when the report peek() returned was pushed (sharedNow()); NaN without times. */
  peekTime(): number {
    if (this.#times === null) return NaN;
    return this.#times[Atomics.load(this.#counters, this.#tail) % this.#slots.length]!;
  }

  /** Consumer: releases the report peek() returned. */
  shift(): void {
    Atomics.add(this.#counters, this.#tail, 1);
  }

  dropped(): number {
    return Atomics.load(this.#counters, this.#dropped);
  }
}

/** What both ends of one simulated board's wire are built from (passable to any thread). */
export interface BoardLinkInit {
  /** LINK_BYTES: the two rings (newBoardLink()). */
  link: SharedArrayBuffer;
  /** The host's doorbell: rung when a board report is in the ring. */
  hostBell: DoorbellRef;
  /** The board's doorbell: rung when a host report needs an answer at once. */
  boardBell: DoorbellRef;
}

export function newBoardLink(): SharedArrayBuffer {
  return new SharedArrayBuffer(LINK_BYTES);
}

function rings(link: SharedArrayBuffer): { b2h: [Int32Array, { head: number; tail: number; dropped: number }, Uint8Array]; h2b: [Int32Array, { head: number; tail: number; dropped: number }, Uint8Array, Float64Array] } {
  if (link.byteLength < LINK_BYTES) throw new Error(`board link buffer too small: ${link.byteLength} < ${LINK_BYTES}`);
  const counters = new Int32Array(link, 0, C.COUNT);
  return {
    b2h: [counters, { head: C.B2H_HEAD, tail: C.B2H_TAIL, dropped: C.B2H_DROPPED }, new Uint8Array(link, B2H_OFFSET, RING_SLOTS * REPORT_SIZE)],
    h2b: [
      counters,
      { head: C.H2B_HEAD, tail: C.H2B_TAIL, dropped: C.H2B_DROPPED },
      new Uint8Array(link, H2B_OFFSET, RING_SLOTS * REPORT_SIZE),
      new Float64Array(link, H2B_TIMES_OFFSET, RING_SLOTS),
    ],
  };
}

/** The host's end: reads board reports, writes host reports. */
export class HostEnd {
  readonly rx: ReportRing;
  readonly #tx: ReportRing;
  readonly #board: Doorbell;

  constructor(init: BoardLinkInit) {
    const r = rings(init.link);
    this.rx = new ReportRing(...r.b2h);
    this.#tx = new ReportRing(...r.h2b);
    this.#board = new Doorbell(init.boardBell);
  }

  /** Queues one host report; `urgent` wakes the board for it, else it is taken at the board's next step. */
  send(report: Uint8Array, urgent: boolean): boolean {
    const ok = this.#tx.push(report);
    if (urgent) this.#board.ring();
    return ok;
  }
}

/** The board's end: reads host reports (with their send time), writes board reports. */
export class BoardEnd {
  readonly #rx: ReportRing;
  readonly #tx: ReportRing;
  readonly #host: Doorbell;

  constructor(init: BoardLinkInit) {
    const r = rings(init.link);
    this.#rx = new ReportRing(...r.h2b);
    this.#tx = new ReportRing(...r.b2h);
    this.#host = new Doorbell(init.hostBell);
  }

  /** Sends one board report to the host and wakes it. */
  send(report: Uint8Array): boolean {
    const ok = this.#tx.push(report);
    this.#host.ring();
    return ok;
  }

  /** The oldest host report (valid until next()), or null. */
  peek(): Uint8Array | null {
    return this.#rx.peek();
  }

  /** When the host sent the report peek() returned, on this thread's performance.now() clock. */
  sentAt(): number {
    return this.#rx.peekTime() - performance.timeOrigin;
  }

  next(): void {
    this.#rx.shift();
  }
}
