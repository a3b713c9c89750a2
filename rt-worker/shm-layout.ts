// The one SharedArrayBuffer shared by the main thread, the real-time worker and (simulated board
// only) the sim-board thread. Every field is declared here once: offset, type and the one side
// that writes it. Everything else reads and writes through the accessors below; no other file
// knows an index.
//
// Atomics protocol
// * WORKER_DOORBELL: anyone who has something for the worker (main: new requested outputs; sim
//   board: a new input report) Atomics.add()s it and notifies. The worker Atomics.waitAsync()s on
//   it with a short timeout, so it also wakes for its own heartbeat without anybody's help.
// * Requested outputs (main → worker) and board state (worker → main) are seqlocks: the single
//   writer makes the sequence odd, writes the fields, makes it even. A reader retries a few times
//   and otherwise keeps what it had; no side ever blocks on the other.
// * Event ring (worker → main): fixed-size Float64 records; the worker writes a record, then
//   publishes it by storing EVENT_HEAD and notifying it; main drains up to EVENT_HEAD and stores
//   EVENT_TAIL. When the ring is full the worker drops the record and counts it, it never waits.
// * Report rings (worker ⇄ sim board): two single-producer single-consumer rings of 64-byte
//   reports with head/tail counters; SIM_DOORBELL wakes the sim thread. One sim thread serves every
//   connector, so its doorbell can live outside the connector's buffer: a `simBell` buffer shared
//   by all connectors (Shm constructor). Host→board reports carry
//   the time they were sent (H2B_TIMES): the sim board drains a heartbeat at its next step, not
//   when it arrives, and its watchdog still counts from the moment it was sent.
// * MAIN_HEARTBEAT: main increments it on every tick (host-ticker.ts); the worker opens the relays
//   when it has not moved for MAIN_SILENCE_MS.

/** Size of every HID report, both directions (docs/board-protocol.md). */
export const REPORT_SIZE = 64;
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
  SIM_DOORBELL: 32, // [worker] bumped when an output report is in the host→board ring (unless simBell)
  B2H_HEAD: 33, // [sim]
  B2H_TAIL: 34, // [worker]
  H2B_HEAD: 35, // [worker]
  H2B_TAIL: 36, // [sim]
  B2H_DROPPED: 37, // [sim]
  H2B_DROPPED: 38, // [worker]
  SIM_SEQ: 39, // [sim] seqlock of the SIM_* fields
  SIM_CP: 40, // [sim] CpState code last reported
  SIM_PWM: 41, // [sim] 0.01 %, -1 = steady (no PWM)
  SIM_RELAYS: 42, // [sim]
  SIM_PHASES: 43, // [sim] 1 or 3
  SIM_LOCKED: 44, // [sim]
  SIM_CAR_RUNNING: 45, // [sim]
  SIM_CAR_STATE: 46, // [sim] index into CAR_STATES
  SIM_CAR_ACK: 47, // [sim] number of script posts/stops the sim thread has applied
  SIM_WELD: 48, // [sim]
  SIM_STEPS: 49, // [sim] physics steps done
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

// ---- Float64 blocks -------------------------------------------------------------------------
const F = {
  SIM_RCD_mA: 0, // [sim]
  SIM_ENERGY_Wh: 1, // [sim]
  SIM_POWER_W: 2, // [sim]
  SIM_I1: 3, // [sim]
  SIM_V1: 6, // [sim]
  COUNT: 16,
} as const;

/** Upper bounds (µs) of the reaction-latency buckets, REACT_BUCKET0 onwards (8 slots). */
export const REACT_BUCKETS_US = [50, 100, 250, 500, 1000, 2500, 10000, 50000] as const;

/** Event ring: records of EVENT_RECORD_F64 doubles; slot 0 is the InputKind. */
export const EVENT_RING_RECORDS = 1024;
export const EVENT_RECORD_F64 = 32;
/** Report rings between worker and sim board. */
export const REPORT_RING_SLOTS = 64;

const CONTROL_BYTES = I.COUNT * 4;
const F64_OFFSET = CONTROL_BYTES;
const EVENT_OFFSET = F64_OFFSET + F.COUNT * 8;
const B2H_OFFSET = EVENT_OFFSET + EVENT_RING_RECORDS * EVENT_RECORD_F64 * 8;
const H2B_OFFSET = B2H_OFFSET + REPORT_RING_SLOTS * REPORT_SIZE;
const H2B_TIMES_OFFSET = H2B_OFFSET + REPORT_RING_SLOTS * REPORT_SIZE;
export const SHM_BYTES = H2B_TIMES_OFFSET + REPORT_RING_SLOTS * 8;

/** CP output the host asks for (output report byte 6). */
export const CpMode = { X1: 0, PWM: 1, F: 2 } as const;
export type CpModeCode = (typeof CpMode)[keyof typeof CpMode];

/** CP states as codes, in report order. */
export const CP_STATES = ["A", "B", "C", "D", "E", "F"] as const;
export type CpStateName = (typeof CP_STATES)[number];

/** ProximityPilot.ampacity as codes. */
export const AMPACITIES = ["None", "A_13", "A_20", "A_32", "A_63_3ph_70_1ph"] as const;
export type AmpacityName = (typeof AMPACITIES)[number];

/** PowerOnOff.reason as codes. */
export const POWER_REASONS = ["PowerOff", "FullPowerCharging", "DCCableCheck", "DCPreCharge"] as const;

/** Car-state names (sim/car/contract.ts CarStateName) as codes for SIM_CAR_STATE. */
export const CAR_STATES = ["UNPLUGGED", "PLUGGED_IN", "CHARGING_REGULATED", "CHARGING_FIXED", "ERROR_E", "DIODE_FAIL"] as const;

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
    duty: 10000,
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
}

/** What the sim thread shares with main for GET …/sim (numbers only; main builds the JSON). */
export interface SimView {
  cp: number;
  pwm: number;
  relays: boolean;
  phases: number;
  locked: boolean;
  carRunning: boolean;
  carState: number;
  carAck: number;
  weld: boolean;
  rcd_mA: number;
  energy_Wh: number;
  power_W: number;
  current: [number, number, number];
  voltage: [number, number, number];
}

const SEQLOCK_TRIES = 8;

/** Typed views over the shared buffer; one instance per thread, built around the same buffer. */
export class Shm {
  readonly sab: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  /** The event ring's records, flat: record r starts at r * EVENT_RECORD_F64. */
  readonly events: Float64Array;
  /** Board → host reports: slot s is bytes [s*64, s*64+64). */
  readonly b2h: Uint8Array;
  /** Host → board reports. */
  readonly h2b: Uint8Array;
  /** When each host → board report was sent (ms on the shared clock, ReportRing). */
  readonly h2bTimes: Float64Array;

  /** Where the sim thread's doorbell is: this buffer's SIM_DOORBELL, or slot 0 of a shared bell. */
  readonly simBell: SharedArrayBuffer | null;
  readonly #bell: Int32Array;
  readonly #bellAt: number;

  /** `simBell`: a 4-byte buffer shared by every connector served by one sim thread. */
  constructor(sab: SharedArrayBuffer, simBell: SharedArrayBuffer | null = null) {
    if (sab.byteLength < SHM_BYTES) throw new Error(`shared buffer too small: ${sab.byteLength} < ${SHM_BYTES}`);
    this.sab = sab;
    this.simBell = simBell;
    this.#i32 = new Int32Array(sab, 0, I.COUNT);
    this.#bell = simBell === null ? this.#i32 : new Int32Array(simBell, 0, 1);
    this.#bellAt = simBell === null ? I.SIM_DOORBELL : 0;
    this.#f64 = new Float64Array(sab, F64_OFFSET, F.COUNT);
    this.events = new Float64Array(sab, EVENT_OFFSET, EVENT_RING_RECORDS * EVENT_RECORD_F64);
    this.b2h = new Uint8Array(sab, B2H_OFFSET, REPORT_RING_SLOTS * REPORT_SIZE);
    this.h2b = new Uint8Array(sab, H2B_OFFSET, REPORT_RING_SLOTS * REPORT_SIZE);
    this.h2bTimes = new Float64Array(sab, H2B_TIMES_OFFSET, REPORT_RING_SLOTS);
  }

  /** A fresh buffer with the defaults every reader expects (written by main before any thread starts). */
  static create(simBell: SharedArrayBuffer | null = null): Shm {
    const shm = new Shm(new SharedArrayBuffer(SHM_BYTES), simBell);
    shm.writeRequested(defaultRequested());
    Atomics.store(shm.#i32, I.BOARD_CP, -1);
    Atomics.store(shm.#i32, I.SIM_CP, 0);
    Atomics.store(shm.#i32, I.SIM_PWM, -1);
    Atomics.store(shm.#i32, I.SIM_PHASES, 3);
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
  ringSim(): void {
    Atomics.add(this.#bell, this.#bellAt, 1);
    Atomics.notify(this.#bell, this.#bellAt);
  }
  simDoorbell(): number {
    return Atomics.load(this.#bell, this.#bellAt);
  }
  waitSimDoorbell(seen: number, timeoutMs: number): Promise<unknown> | null {
    const r = Atomics.waitAsync(this.#bell, this.#bellAt, seen, timeoutMs);
    return r.async ? r.value : null;
  }
  /** Blocking wait for the sim thread's bench mode (its own thread, never main). */
  waitSimDoorbellSync(seen: number, timeoutMs: number): void {
    Atomics.wait(this.#bell, this.#bellAt, seen, timeoutMs);
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
      if (Atomics.load(a, I.BOARD_SEQ) !== s1) continue;
      out.link = link === 1;
      out.cp = cp;
      out.relays = relays === 1;
      out.ampacity = amp;
      out.socket = socket === 1;
      out.flags = flags;
      out.errors = errors;
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
  /** [worker] Makes the record filled at eventSlot() visible to main. */
  publishEvent(): void {
    Atomics.add(this.#i32, I.EVENT_HEAD, 1);
    Atomics.notify(this.#i32, I.EVENT_HEAD);
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
  waitEventHead(seen: number, timeoutMs: number): Promise<unknown> | null {
    const r = Atomics.waitAsync(this.#i32, I.EVENT_HEAD, seen, timeoutMs);
    return r.async ? r.value : null;
  }
  /** [main] Ends a waitEventHead() without a new record (shutdown). */
  wakeEventWaiter(): void {
    Atomics.notify(this.#i32, I.EVENT_HEAD);
  }

  // ---- report rings (worker ⇄ sim board) -------------------------------------------------------
  /** The counters of one ring as [head index, tail index, dropped index] for ReportRing. */
  ringIndices(direction: "b2h" | "h2b"): { head: number; tail: number; dropped: number } {
    return direction === "b2h"
      ? { head: I.B2H_HEAD, tail: I.B2H_TAIL, dropped: I.B2H_DROPPED }
      : { head: I.H2B_HEAD, tail: I.H2B_TAIL, dropped: I.H2B_DROPPED };
  }
  /** The Int32 control block, for ReportRing's counters only (indices from ringIndices()). */
  ringCounters(): Int32Array {
    return this.#i32;
  }

  // ---- simulated board state [sim writes, main reads] -----------------------------------------
  writeSim(s: SimView): void {
    const a = this.#i32;
    const f = this.#f64;
    Atomics.add(a, I.SIM_SEQ, 1);
    Atomics.store(a, I.SIM_CP, s.cp);
    Atomics.store(a, I.SIM_PWM, s.pwm);
    Atomics.store(a, I.SIM_RELAYS, s.relays ? 1 : 0);
    Atomics.store(a, I.SIM_PHASES, s.phases);
    Atomics.store(a, I.SIM_LOCKED, s.locked ? 1 : 0);
    Atomics.store(a, I.SIM_CAR_RUNNING, s.carRunning ? 1 : 0);
    Atomics.store(a, I.SIM_CAR_STATE, s.carState);
    Atomics.store(a, I.SIM_CAR_ACK, s.carAck);
    Atomics.store(a, I.SIM_WELD, s.weld ? 1 : 0);
    f[F.SIM_RCD_mA] = s.rcd_mA;
    f[F.SIM_ENERGY_Wh] = s.energy_Wh;
    f[F.SIM_POWER_W] = s.power_W;
    for (let k = 0; k < 3; k++) {
      f[F.SIM_I1 + k] = s.current[k]!;
      f[F.SIM_V1 + k] = s.voltage[k]!;
    }
    Atomics.add(a, I.SIM_SEQ, 1);
  }
  readSim(out: SimView): boolean {
    const a = this.#i32;
    const f = this.#f64;
    for (let t = 0; t < SEQLOCK_TRIES * 4; t++) {
      const s1 = Atomics.load(a, I.SIM_SEQ);
      if (s1 & 1) continue;
      const cp = Atomics.load(a, I.SIM_CP);
      const pwm = Atomics.load(a, I.SIM_PWM);
      const relays = Atomics.load(a, I.SIM_RELAYS);
      const phases = Atomics.load(a, I.SIM_PHASES);
      const locked = Atomics.load(a, I.SIM_LOCKED);
      const running = Atomics.load(a, I.SIM_CAR_RUNNING);
      const carState = Atomics.load(a, I.SIM_CAR_STATE);
      const ack = Atomics.load(a, I.SIM_CAR_ACK);
      const weld = Atomics.load(a, I.SIM_WELD);
      const rcd = f[F.SIM_RCD_mA]!;
      const energy = f[F.SIM_ENERGY_Wh]!;
      const power = f[F.SIM_POWER_W]!;
      const i1 = f[F.SIM_I1]!, i2 = f[F.SIM_I1 + 1]!, i3 = f[F.SIM_I1 + 2]!;
      const v1 = f[F.SIM_V1]!, v2 = f[F.SIM_V1 + 1]!, v3 = f[F.SIM_V1 + 2]!;
      if (Atomics.load(a, I.SIM_SEQ) !== s1) continue;
      out.cp = cp;
      out.pwm = pwm;
      out.relays = relays === 1;
      out.phases = phases;
      out.locked = locked === 1;
      out.carRunning = running === 1;
      out.carState = carState;
      out.carAck = ack;
      out.weld = weld === 1;
      out.rcd_mA = rcd;
      out.energy_Wh = energy;
      out.power_W = power;
      out.current = [i1, i2, i3];
      out.voltage = [v1, v2, v3];
      return true;
    }
    return false;
  }
  simSteps(): number {
    return Atomics.load(this.#i32, I.SIM_STEPS);
  }
  /** [sim] */
  countSimStep(): void {
    Atomics.add(this.#i32, I.SIM_STEPS, 1);
  }
}

export function emptySimView(): SimView {
  return {
    cp: 0,
    pwm: -1,
    relays: false,
    phases: 3,
    locked: false,
    carRunning: false,
    carState: 0,
    carAck: 0,
    weld: false,
    rcd_mA: 0,
    energy_Wh: 0,
    power_W: 0,
    current: [0, 0, 0],
    voltage: [0, 0, 0],
  };
}

export function emptyBoardView(): BoardView {
  return { link: false, cp: -1, relays: false, ampacity: 0, socket: false, flags: 0, errors: 0 };
}
