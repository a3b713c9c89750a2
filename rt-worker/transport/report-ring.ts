// A single-producer single-consumer ring of 64-byte reports on the shared buffer (shm-layout.ts
// owns where it lives). The producer never waits: a full ring drops the report and counts it,
// because a stale report is worth less than a fresh one and the next one follows within 100 ms.
// With `times`, each report carries the time it was pushed (sharedNow()).
import { REPORT_SIZE } from "../shm-layout.ts";

/** Milliseconds on a clock every thread of the process reads alike (each thread's performance.now()
 *  counts from its own start). */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
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
