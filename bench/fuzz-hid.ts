// HID input-report fuzzing of the real-time worker's loop (rt-worker/rt-loop.ts) without threads:
// a fake transport, a fake clock and the real shared-memory layout. Operations are valid, random
// and mutated board reports (bit flips, truncation, wrong id or version, out-of-range fields),
// main-thread requests, time steps with or without a main heartbeat, and USB link drops.
//
// After every operation the output report the worker last sent is checked against an oracle that
// decodes the board's reports independently of board-protocol/report-codec.ts (docs/board-protocol.md
// §2-§4, §8): allow-power-on only while the latest accepted STATE is C or D, no diode fault, no
// RCD trip, no PP loss on a socket, the board answering and the main thread beating; relays may
// be newly allowed only with PWM on (board rule 2; the kernel's C1 hold of §7.1 may keep an
// earlier permission over PWM off). Invalid reports must be counted, never thrown.
import fc from "fast-check";
import { AMPACITIES } from "../board-protocol/index.ts";
import { ampsForDuty, cableAmps } from "../core/pwm.ts";
import { recordToInput } from "../rt-worker/board-inputs.ts";
import { BOARD_SILENCE_MS, RtLoop } from "../rt-worker/rt-loop.ts";
import {
  ControlFlag,
  decodeControl,
  emptyControl,
  emptyInfo,
  emptyMeter,
  emptyState,
  encodeInfo,
  encodeMeter,
  encodeState,
  Reject,
  StateFlag,
  type ControlReport,
} from "../board-protocol/index.ts";
import { CpMode, REPORT_SIZE } from "../board-protocol/index.ts";
import { MAIN_SILENCE_MS, Shm, type Requested } from "../rt-worker/shm-layout.ts";
import type { Transport, TransportSink } from "../rt-worker/transport/transport.ts";

// ---- operations ---------------------------------------------------------------------------------
export interface StateFields {
  cp: number;
  cpMode: number;
  duty: number;
  flags: number;
  ampacity: number;
  lock: number;
  rcdTripped: boolean;
  errors: number;
  pp: number;
}

export type Base = { kind: "state"; s: StateFields } | { kind: "meter"; energy: number; phaseSeq: boolean } | { kind: "info"; socket: boolean; phases: number };

export type HidOp =
  | { op: "report"; base: Base }
  | { op: "flip"; base: Base; bits: number[] }
  | { op: "truncate"; base: Base; length: number }
  | { op: "poke"; base: Base; at: number; value: number }
  | { op: "random"; bytes: Uint8Array; length: number }
  | { op: "advance"; ms: number; beat: boolean }
  | { op: "request"; req: Requested }
  | { op: "link"; up: boolean };

const stateArb: fc.Arbitrary<StateFields> = fc.record({
  // Weighted towards C and D so that permission is actually granted often enough to be tested.
  cp: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(2, 3) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 5 }) }),
  cpMode: fc.integer({ min: 0, max: 2 }),
  duty: fc.integer({ min: 0, max: 10000 }),
  flags: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(StateFlag.ENABLED, StateFlag.ENABLED | StateFlag.RELAYS_CLOSED) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  ampacity: fc.integer({ min: 0, max: 4 }),
  lock: fc.integer({ min: 0, max: 2 }),
  rcdTripped: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  errors: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) }),
  pp: fc.integer({ min: 0, max: 0xffff }),
});

const baseArb: fc.Arbitrary<Base> = fc.oneof(
  { weight: 6, arbitrary: stateArb.map((s) => ({ kind: "state" as const, s })) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("meter" as const), energy: fc.nat(), phaseSeq: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("info" as const), socket: fc.boolean(), phases: fc.integer({ min: 1, max: 3 }) }) },
);

const requestArb: fc.Arbitrary<Requested> = fc.record({
  enable: fc.boolean(),
  cpMode: fc.oneof({ weight: 3, arbitrary: fc.constant(CpMode.PWM) }, { weight: 1, arbitrary: fc.constantFrom(CpMode.X1, CpMode.F) }),
  duty: fc.oneof(fc.integer({ min: 1, max: 10000 }), fc.constantFrom(1000, 2667, 5333, 8500, 9600)),
  allow: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  allowReason: fc.integer({ min: 0, max: 3 }),
  threePhases: fc.boolean(),
  lock: fc.boolean(),
  overcurrent: fc.integer({ min: 0, max: 0xffff }),
  rcdSelfTest: fc.integer({ min: 0, max: 255 }),
  rcdReset: fc.integer({ min: 0, max: 255 }),
  info: fc.integer({ min: 0, max: 255 }),
});

export const hidOpArb: fc.Arbitrary<HidOp> = fc.oneof(
  { weight: 10, arbitrary: baseArb.map((base) => ({ op: "report" as const, base })) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("flip" as const), base: baseArb, bits: fc.array(fc.integer({ min: 0, max: 64 * 8 - 1 }), { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("truncate" as const), base: baseArb, length: fc.integer({ min: 0, max: REPORT_SIZE - 1 }) }) },
  // Byte 0 = wrong id, 1 = wrong version, 4-17 / 58 / 8-16 = out-of-range fields.
  { weight: 3, arbitrary: fc.record({ op: fc.constant("poke" as const), base: baseArb, at: fc.constantFrom(0, 1, 4, 5, 10, 11, 13, 16, 17, 8, 9, 14, 15, 58), value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("random" as const), bytes: fc.uint8Array({ minLength: REPORT_SIZE, maxLength: REPORT_SIZE }), length: fc.constantFrom(REPORT_SIZE, REPORT_SIZE, 65, 32, 1) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.oneof(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 900, max: 1100 })), beat: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) }) },
  { weight: 2, arbitrary: requestArb.map((req) => ({ op: "request" as const, req })) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("link" as const), up: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) }) },
);

// ---- the rig ------------------------------------------------------------------------------------
class CapturingTransport implements Transport {
  readonly kind = "hid" as const;
  sink: TransportSink | null = null;
  readonly last: ControlReport = emptyControl();
  readonly prev: ControlReport = emptyControl();
  sent = 0;
  badWrites = 0;
  start(sink: TransportSink): void {
    this.sink = sink;
    sink.link(true, "fuzz");
  }
  poll(): void {}
  write(report: Uint8Array): boolean {
    Object.assign(this.prev, this.last);
    if (decodeControl(report, this.last) !== Reject.None) this.badWrites++;
    this.sent++;
    return true;
  }
  async close(): Promise<void> {}
}

/** What the oracle knows, from its own reading of the bytes. */
interface Oracle {
  transportUp: boolean;
  haveState: boolean;
  stateAt: number;
  cp: number;
  flags: number;
  errors: number;
  rcdTripped: boolean;
  ampacity: number;
  socket: boolean;
  mainSeenAt: number;
}

const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);

/** docs/board-protocol.md §1-§4, written out again here so the codec is not its own judge. */
function oracleAccepts(b: Uint8Array, length: number): boolean {
  if (length < REPORT_SIZE || b[1] !== 1) return false;
  switch (b[0]) {
    case 0x01:
      return b[4]! <= 5 && b[5]! <= 2 && u16(b, 10) <= 10000 && b[13]! <= 4 && b[16]! <= 2 && b[17]! <= 1;
    case 0x02:
      return b[58]! <= 1;
    case 0x03: {
      const ph = (x: number) => x >= 1 && x <= 3;
      return ph(b[8]!) && ph(b[9]!) && ph(b[14]!) && ph(b[15]!) && b[16]! <= 7;
    }
    default:
      return false;
  }
}

export interface HidFuzzSummary {
  reports: number;
  accepted: number;
  rejected: number;
  outputs: number;
  allowedOutputs: number;
  events: number;
}

export class HidFuzzRig {
  now = 1_000_000;
  readonly shm = Shm.create();
  readonly t = new CapturingTransport();
  readonly loop: RtLoop;
  readonly o: Oracle;
  readonly #buf = new Uint8Array(REPORT_SIZE + 1);
  readonly #st = emptyState();
  readonly #mt = emptyMeter();
  readonly #inf = emptyInfo();
  readonly summary: HidFuzzSummary = { reports: 0, accepted: 0, rejected: 0, outputs: 0, allowedOutputs: 0, events: 0 };
  #expectRejected = 0;
  #ops = 0;

  constructor() {
    this.loop = new RtLoop(this.shm, this.t, () => this.now);
    this.o = { transportUp: true, haveState: false, stateAt: -Infinity, cp: -1, flags: 0, errors: 0, rcdTripped: false, ampacity: 0, socket: false, mainSeenAt: this.now };
    this.loop.start();
    this.check("start");
  }

  #encode(base: Base): Uint8Array {
    const b = this.#buf.subarray(0, REPORT_SIZE);
    switch (base.kind) {
      case "state":
        Object.assign(this.#st, base.s);
        this.#st.seq = (this.#st.seq + 1) & 0xffff;
        encodeState(this.#st, b);
        break;
      case "meter":
        this.#mt.importTotal = base.energy;
        this.#mt.phaseSeqError = base.phaseSeq;
        encodeMeter(this.#mt, b);
        break;
      case "info":
        this.#inf.socket = base.socket;
        this.#inf.maxPhasesImport = base.phases;
        this.#inf.maxImport = 320;
        encodeInfo(this.#inf, b);
        break;
    }
    return this.#buf;
  }

  #deliver(bytes: Uint8Array, length: number): void {
    this.summary.reports++;
    const ok = oracleAccepts(bytes, length);
    if (ok) {
      this.summary.accepted++;
      if (bytes[0] === 0x01) {
        const o = this.o;
        o.haveState = true;
        o.stateAt = this.now;
        o.cp = bytes[4]!;
        o.flags = bytes[12]!;
        o.errors = u16(bytes, 22);
        o.rcdTripped = bytes[17] === 1;
        o.ampacity = bytes[13]!;
      } else if (bytes[0] === 0x03) this.o.socket = (bytes[16]! & 2) !== 0;
    } else {
      this.summary.rejected++;
      this.#expectRejected++;
    }
    // A thrown exception here is a finding: the worker must count bad reports, not throw.
    this.t.sink!.report(bytes, length);
  }

  apply(op: HidOp): void {
    switch (op.op) {
      case "report": {
        const b = this.#encode(op.base);
        this.#deliver(b, REPORT_SIZE);
        break;
      }
      case "flip": {
        const b = this.#encode(op.base);
        for (const bit of op.bits) b[bit >> 3]! ^= 1 << (bit & 7);
        this.#deliver(b, REPORT_SIZE);
        break;
      }
      case "truncate": {
        const b = this.#encode(op.base);
        this.#deliver(b, op.length);
        break;
      }
      case "poke": {
        const b = this.#encode(op.base);
        b[op.at] = op.value;
        this.#deliver(b, REPORT_SIZE);
        break;
      }
      case "random": {
        const b = this.#buf;
        b.set(op.bytes);
        b[REPORT_SIZE] = 0;
        this.#deliver(b, Math.min(op.length, b.length));
        break;
      }
      case "advance":
        this.now += op.ms;
        if (op.beat) {
          this.shm.beatMain();
          this.o.mainSeenAt = this.now; // the pass below sees the new beat
        }
        this.loop.pass();
        break;
      case "request":
        this.shm.writeRequested(op.req);
        this.loop.pass();
        break;
      case "link":
        this.t.sink!.link(op.up, op.up ? "fuzz" : "unplugged");
        this.o.transportUp = op.up;
        if (!op.up) this.o.haveState = false;
        this.loop.pass(); // the worker's next pass follows within its 20 ms wait
        break;
    }
    if ((++this.#ops & 15) === 0) this.#drainEvents();
    this.check(op.op);
  }

  #drainEvents(): void {
    const shm = this.shm;
    const ctx = { meterId: "FUZZ", now: () => this.now };
    for (let n = shm.eventTail(); n !== shm.eventHead(); n++) {
      if (recordToInput(shm.events, Shm.eventOffset(n), ctx) !== null) this.summary.events++;
      shm.setEventTail(n + 1);
    }
  }

  /** Throws (with the oracle's view) when the last output breaks a safety rule. */
  check(after: string): void {
    const t = this.t;
    const c = t.last;
    const o = this.o;
    const fail = (why: string) => {
      throw new Error(`after ${after}: ${why}; output ${JSON.stringify(c)}; board ${JSON.stringify({ ...o, now: this.now })}`);
    };
    if (t.badWrites > 0) fail("the worker sent a CONTROL report the board would refuse");
    const rejected = this.shm.counters().rejected;
    if (rejected !== this.#expectRejected) fail(`rejected counter ${rejected}, oracle counted ${this.#expectRejected} invalid reports`);
    this.summary.outputs = t.sent;
    if (t.sent === 0) fail("no output report yet");
    const allowed = (c.flags & ControlFlag.ALLOW_POWER_ON) !== 0;
    if (c.cpMode === CpMode.PWM && o.socket && o.haveState) {
      const cap = cableAmps(AMPACITIES[o.ampacity] ?? "None", c.phases === 3);
      if (cap === 0) fail("PWM offered on a socket without cable coding");
      if (ampsForDuty(c.duty / 100) > cap + 1e-9) fail(`PWM ${c.duty} offers more than the ${cap} A cable`);
    }
    if (!allowed) {
      if (c.reason !== 0) fail("power reason set without permission");
      return;
    }
    this.summary.allowedOutputs++;
    if (!o.transportUp || !o.haveState) fail("allowed without a STATE report from the board");
    if (this.now - o.stateAt >= BOARD_SILENCE_MS) fail("allowed although the board has been silent for 1 s");
    if ((o.flags & StateFlag.HOST_WATCHDOG) !== 0) fail("allowed while the board's host watchdog holds");
    if (o.cp !== 2 && o.cp !== 3) fail(`allowed in CP ${"ABCDEF"[o.cp] ?? o.cp}`);
    if ((o.errors & 1) !== 0) fail("allowed with a diode fault");
    if (o.rcdTripped || (o.errors & 0b110) !== 0) fail("allowed with the RCD tripped");
    if (o.socket && o.ampacity === 0) fail("allowed on a socket with PP lost");
    if (this.now - o.mainSeenAt >= MAIN_SILENCE_MS) fail("allowed although the main thread has been silent for 1 s");
    const newlyAllowed = (t.prev.flags & ControlFlag.ALLOW_POWER_ON) === 0;
    if (newlyAllowed && c.cpMode !== CpMode.PWM) fail("power newly allowed without PWM");
  }
}

/** Runs independent rigs of up to `opsPerRun` operations, in batches of fast-check runs with
 *  seeds seed, seed+1, ..., until at least `reports` input reports went in; throws on the first
 *  violation (fast-check's message carries the seed and the operations). */
export function fuzzHid(opts: { seed: number; reports: number; opsPerRun?: number }): HidFuzzSummary {
  const opsPerRun = opts.opsPerRun ?? 300;
  const total: HidFuzzSummary = { reports: 0, accepted: 0, rejected: 0, outputs: 0, allowedOutputs: 0, events: 0 };
  for (let batch = 0; total.reports < opts.reports; batch++) {
    fc.assert(
      fc.property(fc.array(hidOpArb, { minLength: Math.floor(opsPerRun * 0.9), maxLength: opsPerRun }), (ops) => {
        const rig = new HidFuzzRig();
        for (const op of ops) rig.apply(op);
        for (const k of Object.keys(total) as (keyof HidFuzzSummary)[]) total[k] += rig.summary[k];
      }),
      // Shrinking a few hundred operations takes long; the failing case is printed unshrunk.
      { seed: opts.seed + batch, numRuns: 100, endOnFailure: true },
    );
  }
  return total;
}
