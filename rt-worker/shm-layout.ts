// The SharedArrayBuffer of one connector, shared by the main thread and its real-time worker.
// Every field is declared here once: offset, type and the one side that writes it. Everything else
// reads and writes through the accessors below; no other file knows an index. (A simulated board
// has buffers of its own: the report rings of board-protocol/report-ring.ts and the view of
// sim/board/sim-view.ts.)
//
// Atomics protocol
// * WORKER_DOORBELL: anyone who has something for the worker (main: new requested outputs or its
//   liveness ping; a simulated board: a new input report, through workerBell()) Atomics.add()s it
//   and notifies. The worker Atomics.waitAsync()s on it.
// * Requested outputs (main → worker) and board state (worker → main) are seqlocks: the single
//   writer makes the sequence odd, writes the fields, makes it even. A reader retries a few times
//   and otherwise keeps what it had; no side ever blocks on the other.
// * Event ring (worker → main): fixed-size Float64 records; the worker writes a record, then
//   publishes it by storing EVENT_HEAD and ringing main's event doorbell (one for every connector,
//   so records of several connectors wake main once); main drains up to EVENT_HEAD and stores
//   EVENT_TAIL. When the ring is full the worker drops the record and counts it, it never waits.
// * MAIN_HEARTBEAT: main increments it on every tick (host-ticker.ts); the worker opens the relays
//   when it has not moved for MAIN_SILENCE_MS.

import { CpMode, DUTY_STEADY, type CpModeCode, type DoorbellRef } from "../board-protocol/index.ts";

/** Worker opens the relays when main's heartbeat has not moved for this long (issue 2). */
export const MAIN_SILENCE_MS = 1000;

// ---- Int32 control block --------------------------------------------------------------------
// writer in brackets
const I = {
  WORKER_DOORBELL: 0, // [main, sim] bumped to wake the worker
  REQ_SEQ: 1, // [main] seqlock of the REQ_* fields
  REQ_ENABLE: 2, // [main] 0/1
  REQ_CP_MODE: 3, // [main] CpMode
  REQ_DUTY: 4, // [main] 0.01 %
  REQ_ALLOW: 5, // [main] 0/1
  REQ_ALLOW_REASON: 6, // [main] PowerReason code
  REQ_THREE_PHASES: 7, // [main] 0 = one phase, 1 = three phases
  REQ_LOCK: 8, // [main] 0 unlock, 1 lock
  REQ_OVERCURRENT: 9, // [main] 0.1 A, 0 = none
  REQ_RCD_SELFTEST: 10, // [main] counter, bumped per request
  REQ_RCD_RESET: 11, // [main] counter
  REQ_INFO: 12, // [main] counter: ask the board for its INFO report
  MAIN_HEARTBEAT: 13, // [main]
  WORKER_BEAT: 14, // [worker] bumped every loop pass
  BOARD_PWM: 15, // [worker] duty the board reports generating, 0.01 %; -1 = no PWM (site balancing)
  BOARD_SEQ: 16, // [worker] seqlock of the BOARD_* fields
  BOARD_LINK: 17, // [worker] 1 = reports arrive and the board accepts ours
  BOARD_CP: 18, // [worker] CpState code, -1 before the first report
  BOARD_RELAYS: 19, // [worker] 0/1, relay feedback
  BOARD_AMPACITY: 20, // [worker] Ampacity code
  BOARD_SOCKET: 21, // [worker] 1 = IEC62196Type2Socket
  BOARD_FLAGS: 22, // [worker] state-report flags
  BOARD_ERRORS: 23, // [worker] state-report error bits
  BOARD_RX: 24, // [worker] valid input reports
  BOARD_REJECTED: 25, // [worker] malformed input reports
  WORKER_TRIP: 26, // [worker] current interlock reason (Trip code)
  WORKER_TRIPS: 27, // [worker] how many times an interlock opened the relays
  EVENT_HEAD: 28, // [worker]
  EVENT_TAIL: 29, // [main]
  EVENT_DROPPED: 30, // [worker]
  BOARD_TX: 31, // [worker] output reports sent
  TEXT_SEQ: 32, // [worker] seqlock of the TEXT_* bytes
  // The worker thread's kernel thread id (Linux, 0 = unknown), written once at start: main looks
  // the thread up in /proc when a ping goes unanswered, to tell dead, hung and starved apart
  // (liveness.ts).
  WORKER_TID: 33, // [worker]
  // Reaction latency: input report received → output report written, for the reports whose
  // outputs changed (relay permission, CP mode, duty…). Microseconds; /metrics turns it into a
  // histogram (REACT_BUCKETS_US; the +Inf bucket is REACT_COUNT).
  REACT_COUNT: 50, // [worker]
  REACT_SUM_US: 51, // [worker] wraps after ~35 min of summed latency; Prometheus handles resets
  REACT_MAX_US: 52, // [worker]
  REACT_LAST_US: 53, // [worker]
  REACT_BUCKET0: 54, // [worker] 54..61: one cumulative count per REACT_BUCKETS_US bound
  COUNT: 64,
} as const;

// ---- text [worker writes, main reads; off the hot path] ---------------------------------------
/** The INFO report's meter id (ASCII, zero-padded). */
const METER_ID_BYTES = 16;
/** Why the transport has no board (the HID transport's last error), UTF-8, cut to fit. */
const LINK_ERROR_BYTES = 240;

/** Upper bounds (µs) of the reaction-latency buckets, REACT_BUCKET0 onwards (8 slots). */
export const REACT_BUCKETS_US = [50, 100, 250, 500, 1000, 2500, 10000, 50000] as const;

/** Event ring: records of EVENT_RECORD_F64 doubles; slot 0 is the InputKind. */
export const EVENT_RING_RECORDS = 1024;
export const EVENT_RECORD_F64 = 32;

const CONTROL_BYTES = I.COUNT * 4;
const TEXT_OFFSET = CONTROL_BYTES;
const TEXT_BYTES = METER_ID_BYTES + LINK_ERROR_BYTES;
const EVENT_OFFSET = TEXT_OFFSET + TEXT_BYTES;
export const SHM_BYTES = EVENT_OFFSET + EVENT_RING_RECORDS * EVENT_RECORD_F64 * 8;

/** What a record in the event ring carries (slot 0). */
export const InputKind = {
  CpEvent: 1, // [1] CpState code
  PowerEvent: 2, // [1] 1 = PowerOn, 0 = PowerOff
  Capabilities: 3, // [1..] see CapabilitySlot
  Telemetry: 4, // [1..] see TelemetrySlot
  Meter: 5, // [1..] see MeterSlot
  ErrorRaised: 6, // [1] error bit
  ErrorCleared: 7, // [1] error bit
} as const;

export const CapabilitySlot = {
  MAX_IMPORT_A: 1,
  MIN_IMPORT_A: 2,
  MAX_PHASES_IMPORT: 3,
  MIN_PHASES_IMPORT: 4,
  MAX_EXPORT_A: 5,
  MIN_EXPORT_A: 6,
  MAX_PHASES_EXPORT: 7,
  MIN_PHASES_EXPORT: 8,
  PHASE_SWITCHING: 9,
  SOCKET: 10,
  MAX_PLUG_TEMP_C: 11, // NaN = absent
} as const;

export const TelemetrySlot = {
  EVSE_TEMP_C: 1,
  FAN_RPM: 2,
  SUPPLY_12V: 3,
  SUPPLY_MINUS_12V: 4,
  RELAIS_ON: 5,
  PLUG_TEMP_C: 6, // NaN = absent
} as const;

export const MeterSlot = {
  IMPORT_TOTAL_Wh: 1,
  IMPORT_L1_Wh: 2, // L2, L3 follow
  EXPORT_TOTAL_Wh: 5,
  POWER_L1_W: 6, // L2, L3 follow
  VOLTAGE_L1_V: 9, // L2, L3 follow
  CURRENT_L1_A: 12, // L2, L3, N follow
  FREQ_L1_Hz: 16, // L2, L3 follow
  TEMP_C: 19,
  PHASE_SEQ_ERROR: 20,
} as const;

/** Requested outputs, as main sets them (BoardPort commands folded into levels and counters). */
export interface Requested {
  enable: boolean;
  cpMode: CpModeCode;
  /** 0.01 %. */
  duty: number;
  allow: boolean;
  allowReason: number;
  threePhases: boolean;
  lock: boolean;
  /** 0.1 A, 0 = none. */
  overcurrent: number;
  rcdSelfTest: number;
  rcdReset: number;
  info: number;
}

export function defaultRequested(): Requested {
  return {
    enable: true,
    cpMode: CpMode.X1,
    duty: DUTY_STEADY,
    allow: false,
    allowReason: 0,
    threePhases: true,
    lock: false,
    overcurrent: 0,
    rcdSelfTest: 0,
    rcdReset: 0,
    info: 0,
  };
}

/** Board state the worker shares with main (ac_read_pp_ampacity, health). */
export interface BoardView {
  link: boolean;
  cp: number;
  relays: boolean;
  ampacity: number;
  socket: boolean;
  flags: number;
  errors: number;
  /** Duty the board reports generating, 0.01 %; -1 without PWM. */
  pwm: number;
}

const SEQLOCK_TRIES = 8;

/** Typed views over the shared buffer; one instance per thread, built around the same buffer. */
export class Shm {
  readonly sab: SharedArrayBuffer;
  readonly #i32: Int32Array;
  /** The event ring's records, flat: record r starts at r * EVENT_RECORD_F64. */
  readonly events: Float64Array;
  readonly #text: Uint8Array;
  #mainBell: Int32Array | null = null;

  constructor(sab: SharedArrayBuffer) {
    if (sab.byteLength < SHM_BYTES) throw new Error(`shared buffer too small: ${sab.byteLength} < ${SHM_BYTES}`);
    this.sab = sab;
    this.#i32 = new Int32Array(sab, 0, I.COUNT);
    this.#text = new Uint8Array(sab, TEXT_OFFSET, TEXT_BYTES);
    this.events = new Float64Array(sab, EVENT_OFFSET, EVENT_RING_RECORDS * EVENT_RECORD_F64);
  }

  /** A fresh buffer with the defaults every reader expects (written by main before any thread starts). */
  static create(): Shm {
    const shm = new Shm(new SharedArrayBuffer(SHM_BYTES));
    shm.writeRequested(defaultRequested());
    Atomics.store(shm.#i32, I.BOARD_CP, -1);
    Atomics.store(shm.#i32, I.BOARD_PWM, -1);
    return shm;
  }

  // ---- doorbells ----------------------------------------------------------------------------
  ringWorker(): void {
    Atomics.add(this.#i32, I.WORKER_DOORBELL, 1);
    Atomics.notify(this.#i32, I.WORKER_DOORBELL);
  }
  workerDoorbell(): number {
    return Atomics.load(this.#i32, I.WORKER_DOORBELL);
  }
  /** Resolves when the worker doorbell moves away from `seen` or after timeoutMs. */
  waitWorkerDoorbell(seen: number, timeoutMs: number): Promise<unknown> | null {
    const r = Atomics.waitAsync(this.#i32, I.WORKER_DOORBELL, seen, timeoutMs);
    return r.async ? r.value : null;
  }
  /** The worker doorbell for another thread to ring (a simulated board's reports). */
  workerBell(): DoorbellRef {
    return { sab: this.sab, index: I.WORKER_DOORBELL };
  }

  // ---- requested outputs [main writes, worker reads] ----------------------------------------
  writeRequested(r: Requested): void {
    const a = this.#i32;
    Atomics.add(a, I.REQ_SEQ, 1); // odd: writing
    Atomics.store(a, I.REQ_ENABLE, r.enable ? 1 : 0);
    Atomics.store(a, I.REQ_CP_MODE, r.cpMode);
    Atomics.store(a, I.REQ_DUTY, r.duty);
    Atomics.store(a, I.REQ_ALLOW, r.allow ? 1 : 0);
    Atomics.store(a, I.REQ_ALLOW_REASON, r.allowReason);
    Atomics.store(a, I.REQ_THREE_PHASES, r.threePhases ? 1 : 0);
    Atomics.store(a, I.REQ_LOCK, r.lock ? 1 : 0);
    Atomics.store(a, I.REQ_OVERCURRENT, r.overcurrent);
    Atomics.store(a, I.REQ_RCD_SELFTEST, r.rcdSelfTest);
    Atomics.store(a, I.REQ_RCD_RESET, r.rcdReset);
    Atomics.store(a, I.REQ_INFO, r.info);
    Atomics.add(a, I.REQ_SEQ, 1); // even: done
  }
  requestedSeq(): number {
    return Atomics.load(this.#i32, I.REQ_SEQ);
  }
  /** Fills `out` and returns true when a consistent snapshot was read; `out` is untouched otherwise. */
  readRequested(out: Requested): boolean {
    const a = this.#i32;
    for (let t = 0; t < SEQLOCK_TRIES; t++) {
      const s1 = Atomics.load(a, I.REQ_SEQ);
      if (s1 & 1) continue;
      const enable = Atomics.load(a, I.REQ_ENABLE);
      const cpMode = Atomics.load(a, I.REQ_CP_MODE);
      const duty = Atomics.load(a, I.REQ_DUTY);
      const allow = Atomics.load(a, I.REQ_ALLOW);
      const reason = Atomics.load(a, I.REQ_ALLOW_REASON);
      const three = Atomics.load(a, I.REQ_THREE_PHASES);
      const lock = Atomics.load(a, I.REQ_LOCK);
      const oc = Atomics.load(a, I.REQ_OVERCURRENT);
      const st = Atomics.load(a, I.REQ_RCD_SELFTEST);
      const rr = Atomics.load(a, I.REQ_RCD_RESET);
      const info = Atomics.load(a, I.REQ_INFO);
      if (Atomics.load(a, I.REQ_SEQ) !== s1) continue;
      out.enable = enable === 1;
      out.cpMode = cpMode as CpModeCode;
      out.duty = duty;
      out.allow = allow === 1;
      out.allowReason = reason;
      out.threePhases = three === 1;
      out.lock = lock === 1;
      out.overcurrent = oc;
      out.rcdSelfTest = st;
      out.rcdReset = rr;
      out.info = info;
      return true;
    }
    return false;
  }

  // ---- heartbeats -----------------------------------------------------------------------------
  /** [main] */
  beatMain(): void {
    Atomics.add(this.#i32, I.MAIN_HEARTBEAT, 1);
  }
  mainHeartbeat(): number {
    return Atomics.load(this.#i32, I.MAIN_HEARTBEAT);
  }
  /** [worker] */
  beatWorker(): void {
    Atomics.add(this.#i32, I.WORKER_BEAT, 1);
  }
  workerBeat(): number {
    return Atomics.load(this.#i32, I.WORKER_BEAT);
  }
  /** [worker] Once at start. */
  setWorkerTid(tid: number): void {
    Atomics.store(this.#i32, I.WORKER_TID, tid);
  }
  workerTid(): number {
    return Atomics.load(this.#i32, I.WORKER_TID);
  }

  // ---- board state [worker writes, main reads] -----------------------------------------------
  writeBoard(b: BoardView): void {
    const a = this.#i32;
    Atomics.add(a, I.BOARD_SEQ, 1);
    Atomics.store(a, I.BOARD_LINK, b.link ? 1 : 0);
    Atomics.store(a, I.BOARD_CP, b.cp);
    Atomics.store(a, I.BOARD_RELAYS, b.relays ? 1 : 0);
    Atomics.store(a, I.BOARD_AMPACITY, b.ampacity);
    Atomics.store(a, I.BOARD_SOCKET, b.socket ? 1 : 0);
    Atomics.store(a, I.BOARD_FLAGS, b.flags);
    Atomics.store(a, I.BOARD_ERRORS, b.errors);
    Atomics.store(a, I.BOARD_PWM, b.pwm);
    Atomics.add(a, I.BOARD_SEQ, 1);
  }
  readBoard(out: BoardView): boolean {
    const a = this.#i32;
    for (let t = 0; t < SEQLOCK_TRIES; t++) {
      const s1 = Atomics.load(a, I.BOARD_SEQ);
      if (s1 & 1) continue;
      const link = Atomics.load(a, I.BOARD_LINK);
      const cp = Atomics.load(a, I.BOARD_CP);
      const relays = Atomics.load(a, I.BOARD_RELAYS);
      const amp = Atomics.load(a, I.BOARD_AMPACITY);
      const socket = Atomics.load(a, I.BOARD_SOCKET);
      const flags = Atomics.load(a, I.BOARD_FLAGS);
      const errors = Atomics.load(a, I.BOARD_ERRORS);
      const pwm = Atomics.load(a, I.BOARD_PWM);
      if (Atomics.load(a, I.BOARD_SEQ) !== s1) continue;
      out.link = link === 1;
      out.cp = cp;
      out.relays = relays === 1;
      out.ampacity = amp;
      out.socket = socket === 1;
      out.flags = flags;
      out.errors = errors;
      out.pwm = pwm;
      return true;
    }
    return false;
  }
  /** [worker] */
  setBoardLink(up: boolean): void {
    Atomics.store(this.#i32, I.BOARD_LINK, up ? 1 : 0);
  }
  boardLink(): boolean {
    return Atomics.load(this.#i32, I.BOARD_LINK) === 1;
  }

  // ---- worker counters [worker writes] ---------------------------------------------------------
  countRx(): void {
    Atomics.add(this.#i32, I.BOARD_RX, 1);
  }
  countRejected(): void {
    Atomics.add(this.#i32, I.BOARD_REJECTED, 1);
  }
  countTx(): void {
    Atomics.add(this.#i32, I.BOARD_TX, 1);
  }
  setTrip(reason: number): void {
    const a = this.#i32;
    if (Atomics.load(a, I.WORKER_TRIP) === reason) return;
    if (reason !== 0) Atomics.add(a, I.WORKER_TRIPS, 1);
    Atomics.store(a, I.WORKER_TRIP, reason);
  }
  /** [worker] One reaction: an input report whose outputs changed, `us` after it arrived. */
  recordReaction(us: number): void {
    const a = this.#i32;
    const v = Math.max(0, Math.round(us));
    Atomics.add(a, I.REACT_COUNT, 1);
    Atomics.add(a, I.REACT_SUM_US, v);
    if (v > Atomics.load(a, I.REACT_MAX_US)) Atomics.store(a, I.REACT_MAX_US, v);
    Atomics.store(a, I.REACT_LAST_US, v);
    for (let b = 0; b < REACT_BUCKETS_US.length; b++) if (v <= REACT_BUCKETS_US[b]!) Atomics.add(a, I.REACT_BUCKET0 + b, 1);
  }
  counters(): {
    rx: number;
    rejected: number;
    tx: number;
    trip: number;
    trips: number;
    eventsDropped: number;
    reaction: { count: number; sumUs: number; maxUs: number; lastUs: number; bucketsUs: number[] };
  } {
    const a = this.#i32;
    return {
      reaction: {
        count: Atomics.load(a, I.REACT_COUNT),
        sumUs: Atomics.load(a, I.REACT_SUM_US) >>> 0, // read unsigned: the sum wraps, it is never negative
        maxUs: Atomics.load(a, I.REACT_MAX_US),
        lastUs: Atomics.load(a, I.REACT_LAST_US),
        bucketsUs: REACT_BUCKETS_US.map((_, b) => Atomics.load(a, I.REACT_BUCKET0 + b)),
      },
      rx: Atomics.load(a, I.BOARD_RX),
      rejected: Atomics.load(a, I.BOARD_REJECTED),
      tx: Atomics.load(a, I.BOARD_TX),
      trip: Atomics.load(a, I.WORKER_TRIP),
      trips: Atomics.load(a, I.WORKER_TRIPS),
      eventsDropped: Atomics.load(a, I.EVENT_DROPPED),
    };
  }

  // ---- event ring [worker produces, main consumes] --------------------------------------------
  /** [worker] Index (into `events`) of the record to fill, or -1 when the ring is full. */
  eventSlot(): number {
    const head = Atomics.load(this.#i32, I.EVENT_HEAD);
    const tail = Atomics.load(this.#i32, I.EVENT_TAIL);
    if (head - tail >= EVENT_RING_RECORDS) {
      Atomics.add(this.#i32, I.EVENT_DROPPED, 1);
      return -1;
    }
    return (head % EVENT_RING_RECORDS) * EVENT_RECORD_F64;
  }
  /** [worker] Makes the record filled at eventSlot() visible to main and rings main's event
   *  doorbell (one for every connector, notifyEventsTo()). */
  publishEvent(): void {
    Atomics.add(this.#i32, I.EVENT_HEAD, 1);
    const bell = this.#mainBell;
    if (bell === null) return;
    Atomics.add(bell, 0, 1);
    Atomics.notify(bell, 0);
  }
  /** [worker] Where publishEvent() rings: the main thread's one event doorbell (host-ticker.ts). */
  notifyEventsTo(ref: DoorbellRef): void {
    this.#mainBell = new Int32Array(ref.sab, ref.index * 4, 1);
  }
  eventHead(): number {
    return Atomics.load(this.#i32, I.EVENT_HEAD);
  }
  eventTail(): number {
    return Atomics.load(this.#i32, I.EVENT_TAIL);
  }
  /** [main] */
  setEventTail(tail: number): void {
    Atomics.store(this.#i32, I.EVENT_TAIL, tail);
  }
  /** Record offset (into `events`) of ring position n. */
  static eventOffset(n: number): number {
    return (n % EVENT_RING_RECORDS) * EVENT_RECORD_F64;
  }
  // ---- text [worker writes, main reads] ------------------------------------------------------
  /** [worker] The INFO meter id and the transport's last error (off the hot path: on change only). */
  writeText(meterId: string, linkError: string): void {
    const t = this.#text;
    Atomics.add(this.#i32, I.TEXT_SEQ, 1);
    t.fill(0);
    for (let k = 0; k < METER_ID_BYTES && k < meterId.length; k++) t[k] = meterId.charCodeAt(k) & 0x7f;
    new TextEncoder().encodeInto(linkError, t.subarray(METER_ID_BYTES));
    Atomics.add(this.#i32, I.TEXT_SEQ, 1);
  }
  /** Changes whenever writeText() ran: readers re-read the text only then. */
  textVersion(): number {
    return Atomics.load(this.#i32, I.TEXT_SEQ);
  }
  /** [main] The meter id and the last link error ("" = none), or null while being written. */
  readText(): { meterId: string; linkError: string } | null {
    const s1 = Atomics.load(this.#i32, I.TEXT_SEQ);
    if (s1 & 1) return null;
    const t = this.#text.slice();
    if (Atomics.load(this.#i32, I.TEXT_SEQ) !== s1) return null;
    const end = (b: Uint8Array) => {
      const z = b.indexOf(0);
      return z < 0 ? b : b.subarray(0, z);
    };
    const dec = new TextDecoder();
    return { meterId: dec.decode(end(t.subarray(0, METER_ID_BYTES))), linkError: dec.decode(end(t.subarray(METER_ID_BYTES))) };
  }
}

export function emptyBoardView(): BoardView {
  return { link: false, cp: -1, relays: false, ampacity: 0, socket: false, flags: 0, errors: 0, pwm: -1 };
}
