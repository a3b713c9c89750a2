// The worker's loop (rt-worker/rt-loop.ts) without threads: a fake transport, a fake clock and the
// real shared-memory layout. Proves the worker opens the relays by itself, publishes in board
// order, and survives malformed reports.
import { describe, expect, test } from "bun:test";
import { RtLoop, HOST_HEARTBEAT_MS } from "../rt-worker/rt-loop.ts";
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
  type StateReport,
} from "../board-protocol/index.ts";
import { CpMode } from "../board-protocol/index.ts";
import { defaultRequested, InputKind, Shm } from "../rt-worker/shm-layout.ts";
import type { Transport, TransportSink } from "../rt-worker/transport/transport.ts";
import { recordToInput } from "../rt-worker/board-inputs.ts";
import type { BoardInput } from "../core/ports.ts";

class FakeTransport implements Transport {
  readonly kind = "sim" as const;
  sink: TransportSink | null = null;
  sent: ControlReport[] = [];
  start(sink: TransportSink): void {
    this.sink = sink;
    sink.link(true, "fake");
  }
  poll(): void {}
  write(report: Uint8Array): boolean {
    const c = emptyControl();
    expect(decodeControl(report, c)).toBe(Reject.None);
    this.sent.push(c);
    return true;
  }
  async close(): Promise<void> {}
  last(): ControlReport {
    return this.sent[this.sent.length - 1]!;
  }
}

const CP = { A: 0, B: 1, C: 2, D: 3, E: 4, F: 5 };

function rig(opts: { socket?: boolean } = {}) {
  let now = 1000;
  const shm = Shm.create();
  const t = new FakeTransport();
  const loop = new RtLoop(shm, t, () => now);
  loop.start();
  const st = emptyState();
  st.flags = StateFlag.ENABLED;
  const bytes = new Uint8Array(64);
  const state = (patch: Partial<StateReport>) => {
    Object.assign(st, patch);
    encodeState(st, bytes);
    t.sink!.report(bytes, 64);
  };
  const info = emptyInfo();
  info.socket = opts.socket ?? false;
  info.maxImport = 320;
  info.maxPhasesImport = 3;
  encodeInfo(info, bytes);
  t.sink!.report(bytes, 64);
  const req = defaultRequested();
  const request = (patch: Partial<typeof req>) => {
    Object.assign(req, patch);
    shm.writeRequested(req);
    loop.pass();
  };
  const inputs = (): BoardInput[] => {
    const out: BoardInput[] = [];
    for (let n = shm.eventTail(); n !== shm.eventHead(); n++) {
      const i = recordToInput(shm.events, Shm.eventOffset(n), { meterId: "M", now: () => 0 });
      if (i) out.push(i);
      shm.setEventTail(n + 1);
    }
    return out;
  };
  const advance = (ms: number) => {
    now += ms;
    shm.beatMain();
    loop.pass();
  };
  const allows = () => (t.last().flags & ControlFlag.ALLOW_POWER_ON) !== 0;
  return { shm, t, loop, state, request, inputs, advance, allows, setNow: (v: number) => (now = v), now: () => now };
}

/** A charging rig: car in C, PWM on, allow requested, relays closed. */
function charging(opts: { socket?: boolean } = {}) {
  const r = rig(opts);
  r.state({ cp: CP.C, ampacity: 3 });
  r.request({ cpMode: CpMode.PWM, duty: 2667, allow: true, allowReason: 1 });
  expect(r.allows()).toBe(true);
  r.state({ flags: StateFlag.ENABLED | StateFlag.RELAYS_CLOSED });
  return r;
}

describe("the worker's own interlocks", () => {
  test("C to B withdraws allow_power_on in the very report that answers the B", () => {
    const r = charging();
    const before = r.t.sent.length;
    r.state({ cp: CP.B });
    expect(r.t.sent.length).toBe(before + 1);
    expect(r.allows()).toBe(false);
  });

  test("A, E and F withdraw allow_power_on at once", () => {
    for (const cp of [CP.A, CP.E, CP.F]) {
      const r = charging();
      r.state({ cp });
      expect(r.allows()).toBe(false);
    }
  });

  test("a diode fault and an RCD trip withdraw allow_power_on while still in C", () => {
    const a = charging();
    a.state({ errors: 1 });
    expect(a.allows()).toBe(false);
    const b = charging();
    b.state({ rcdTripped: true });
    expect(b.allows()).toBe(false);
  });

  test("PP loss on a socket withdraws allow_power_on and stops offering PWM", () => {
    const r = charging({ socket: true });
    r.state({ ampacity: 0 });
    expect(r.allows()).toBe(false);
    expect(r.t.last().cpMode).toBe(CpMode.X1);
  });

  test("a main thread silent for 1 s opens the relays; its next beat lets them close again", () => {
    const r = charging();
    r.setNow(r.now() + 999);
    r.state({}); // the board keeps reporting; only main is quiet
    expect(r.allows()).toBe(true);
    r.setNow(r.now() + 2);
    r.loop.pass();
    expect(r.allows()).toBe(false);
    r.advance(10);
    expect(r.allows()).toBe(true);
  });

  test("the PWM offered on a socket never exceeds the cable: 32 A asked, 13 A cable", () => {
    const r = rig({ socket: true });
    r.state({ cp: CP.B, ampacity: 1 });
    r.request({ cpMode: CpMode.PWM, duty: 5333 });
    expect(r.t.last().duty).toBe(2166);
  });

  test("output reports go out at the heartbeat period even when nothing changes", () => {
    const r = charging();
    const before = r.t.sent.length;
    for (let k = 0; k < 10; k++) r.advance(HOST_HEARTBEAT_MS);
    expect(r.t.sent.length - before).toBe(10);
    const beats = r.t.sent.slice(-10).map((c) => c.heartbeat);
    expect(new Set(beats).size).toBe(10);
  });
});

describe("events and publication", () => {
  test("CP changes become events in board order, CP before the relay change it caused", () => {
    const r = charging();
    r.state({ cp: CP.A, flags: StateFlag.ENABLED });
    const events = r.inputs().filter((i) => i.kind === "event").map((i) => (i as any).event);
    expect(events).toEqual(["C", "PowerOn", "A", "PowerOff"]);
  });

  test("repeated STATE reports with the same CP give no new events", () => {
    const r = rig();
    r.state({ cp: CP.B });
    r.state({ cp: CP.B });
    r.state({ cp: CP.B });
    expect(r.inputs().filter((i) => i.kind === "event")).toEqual([{ kind: "event", event: "B" }]);
  });

  test("nothing is published while the board still holds its own watchdog F", () => {
    const r = rig();
    r.state({ cp: CP.F, flags: StateFlag.HOST_WATCHDOG });
    expect(r.inputs().filter((i) => i.kind === "event")).toEqual([]);
    r.state({ cp: CP.A, flags: StateFlag.ENABLED });
    expect(r.inputs().filter((i) => i.kind === "event")).toEqual([{ kind: "event", event: "A" }]);
  });

  test("error bits become error_raised and error_cleared with their EVerest names", () => {
    const r = charging();
    r.inputs();
    r.state({ errors: 0b11 });
    r.state({ errors: 0b10 });
    const errs = r.inputs().filter((i) => i.kind === "error_raised" || i.kind === "error_cleared");
    expect(errs.map((e) => [e.kind, (e as any).type])).toEqual([
      ["error_raised", "evse_board_support/DiodeFault"],
      ["error_raised", "ac_rcd/DC"],
      ["error_cleared", "evse_board_support/DiodeFault"],
    ]);
  });

  test("a METER report becomes a powermeter reading and a telemetry record, in that order", () => {
    const r = rig();
    r.state({ cp: CP.A });
    r.inputs();
    const m = emptyMeter();
    m.importTotal = 1234;
    m.importL = [411, 411, 412];
    m.voltageL = [23000, 23000, 23000];
    m.freqL = [50000, 50000, 50000];
    const b = new Uint8Array(64);
    encodeMeter(m, b);
    r.t.sink!.report(b, 64);
    const got = r.inputs();
    expect(got.map((i) => i.kind)).toEqual(["powermeter", "telemetry"]);
    const pm = (got[0] as any).value;
    expect(pm.energy_Wh_import).toEqual({ total: 123, L1: 41, L2: 41, L3: 41 });
    expect(pm.voltage_V.L1).toBe(230);
  });

  test("the capabilities of the INFO report are published in the 2025.1.0 shape", () => {
    const r = rig();
    const caps = r.inputs().find((i) => i.kind === "capabilities") as any;
    expect(caps.value.max_current_A_import).toBe(32);
    expect("supports_cp_state_E" in caps.value).toBe(false);
    expect(caps.value.connector_type).toBe("IEC62196Type2Cable");
  });
});

describe("malformed reports", () => {
  test("short, unknown, wrong-version and out-of-range reports are counted, never fatal", () => {
    const r = charging();
    const sink = r.t.sink!;
    const good = new Uint8Array(64);
    encodeState(Object.assign(emptyState(), { cp: CP.C, flags: StateFlag.ENABLED | StateFlag.RELAYS_CLOSED }), good);
    sink.report(good, 10);
    const unknown = good.slice();
    unknown[0] = 0x42;
    sink.report(unknown, 64);
    const version = good.slice();
    version[1] = 9;
    sink.report(version, 64);
    const range = good.slice();
    range[4] = 9;
    sink.report(range, 64);
    const wrongWay = good.slice();
    wrongWay[0] = 0x10; // a CONTROL report coming from the board
    sink.report(wrongWay, 64);
    expect(r.shm.counters().rejected).toBe(5);
    // The last valid state still holds: still charging, still allowed.
    r.advance(HOST_HEARTBEAT_MS);
    expect(r.allows()).toBe(true);
  });
});

test("the event ring drops (and counts) records instead of waiting when main never drains", () => {
  const r = rig();
  for (let k = 0; k < 1100; k++) r.state({ cp: k % 2 === 0 ? CP.A : CP.B });
  expect(r.shm.counters().eventsDropped).toBeGreaterThan(0);
  expect(r.shm.eventHead() - r.shm.eventTail()).toBe(1024);
});

test("InputKind codes are distinct", () => {
  expect(new Set(Object.values(InputKind)).size).toBe(Object.values(InputKind).length);
});
