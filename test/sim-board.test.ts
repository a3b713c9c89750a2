// The simulated board's physics (sim/board/physics.ts) driven by hand: host CONTROL reports in,
// car outputs in, report bytes out, time injected. simulation.md §2 with the §5 fixes.
import { describe, expect, test } from "bun:test";
import type { CarOutputs } from "../sim/car/index.ts";
import {
  ControlFlag,
  decodeInfo,
  decodeMeter,
  decodeState,
  emptyControl,
  emptyInfo,
  emptyMeter,
  emptyState,
  encodeControl,
  ReportId,
  StateFlag,
  type MeterReport,
  type StateReport,
  AMPACITIES,
} from "../board-protocol/index.ts";
import { BOARD_STEP_MS, SimBoard, type SimBoardOptions } from "../sim/board/physics.ts";
import { ppAmpacityCode } from "../sim/board/pp.ts";

const CP = ["A", "B", "C", "D", "E", "F"];
const car = (patch: Partial<CarOutputs> = {}): CarOutputs => ({
  cp: "A",
  diode_fail: false,
  ev_max_current_A: 0,
  three_phases: true,
  rcd_current_mA: 0.1,
  allow_power_on: false,
  ...patch,
});

interface HostAsk {
  mode?: "X1" | "PWM" | "F";
  duty?: number; // percent
  allow?: boolean;
  phases?: 1 | 3;
  lock?: boolean;
}

function rig(opts: Partial<SimBoardOptions> = {}) {
  let now = 0;
  const board = new SimBoard(
    { max_current_A_import: 32, connector_type: "IEC62196Type2Cable", pp_resistor_ohm: 220.1, weld_relays: false, seed: 7, ...opts },
    now,
  );
  const ask: Required<HostAsk> = { mode: "X1", duty: 100, allow: false, phases: 3, lock: false };
  const ctl = emptyControl();
  const bytes = new Uint8Array(64);
  let seq = 0;
  const host = (patch: HostAsk = {}) => {
    Object.assign(ask, patch);
    ctl.seq = ++seq;
    ctl.cpMode = { X1: 0, PWM: 1, F: 2 }[ask.mode];
    ctl.duty = ask.mode === "PWM" ? Math.round(ask.duty * 100) : 10000;
    ctl.flags = ControlFlag.ENABLE | (ask.allow ? ControlFlag.ALLOW_POWER_ON : 0) | (ask.lock ? ControlFlag.LOCK : 0);
    ctl.phases = ask.phases;
    ctl.reason = ask.allow ? 1 : 0;
    encodeControl(ctl, bytes);
    return board.hostReport(bytes, 64, now);
  };
  const states: StateReport[] = [];
  const meters: MeterReport[] = [];
  const order: string[] = [];
  const sink = (r: Uint8Array) => {
    if (r[0] === ReportId.State) {
      const s = emptyState();
      decodeState(r, s);
      states.push(s);
      order.push(`state:${CP[s.cp]}`);
    } else if (r[0] === ReportId.Meter) {
      const m = emptyMeter();
      decodeMeter(r, m);
      meters.push(m);
      order.push("meter");
    } else order.push("info");
  };
  /** One 250 ms step with the host heartbeating (so the watchdog stays quiet). */
  const step = (carOut?: CarOutputs, heartbeat = true) => {
    now += BOARD_STEP_MS;
    if (heartbeat) host();
    if (carOut) board.applyCar(carOut);
    board.step(now, sink);
    return states[states.length - 1]!;
  };
  host();
  return { board, host, step, states, meters, order, now: () => now };
}

/** Drives the rig to C with PWM at `duty` % and relays closed. */
function toCharging(r: ReturnType<typeof rig>, duty = 26.67, c: Partial<CarOutputs> = {}) {
  r.step(car({ cp: "A" }));
  r.step(car({ cp: "B" }));
  r.host({ mode: "PWM", duty });
  r.step(car({ cp: "C", ...c }));
  r.host({ allow: true });
  const s = r.step();
  expect(s.flags & StateFlag.RELAYS_CLOSED).toBeTruthy();
  return s;
}

describe("CP and relays", () => {
  test("CP levels read as A, B, C, D, and E only while PWM runs", () => {
    const r = rig();
    expect(CP[r.step(car({ cp: "A" })).cp]).toBe("A");
    expect(CP[r.step(car({ cp: "B" })).cp]).toBe("B");
    expect(CP[r.step(car({ cp: "C" })).cp]).toBe("C");
    expect(CP[r.step(car({ cp: "D" })).cp]).toBe("D");
    // E without PWM is 0 V on both halves: no match, state unchanged (quirk kept).
    expect(CP[r.step(car({ cp: "E" })).cp]).toBe("D");
    r.host({ mode: "PWM", duty: 26.67 });
    expect(CP[r.step().cp]).toBe("E");
  });

  test("the relay closes in C with PWM and allow, and C to B opens it in the same step", () => {
    const r = rig();
    toCharging(r);
    const s = r.step(car({ cp: "B" }));
    expect(CP[s.cp]).toBe("B");
    expect(s.flags & StateFlag.RELAYS_CLOSED).toBe(0);
  });

  test("D with PWM and allow closes the relay like C (§5 item 4)", () => {
    const r = rig();
    r.step(car({ cp: "B" }));
    r.host({ mode: "PWM", duty: 26.67, allow: true });
    const s = r.step(car({ cp: "D" }));
    expect(s.flags & StateFlag.RELAYS_CLOSED).toBeTruthy();
  });

  test("allow_power_on false opens the relay at the next step even in C2 (§5 item 4)", () => {
    const r = rig();
    toCharging(r);
    r.host({ allow: false });
    expect(r.step().flags & StateFlag.RELAYS_CLOSED).toBe(0);
  });

  test("a diode fault is raised with PWM running, opens the relay and clears at A", () => {
    const r = rig();
    toCharging(r);
    const s = r.step(car({ cp: "C", diode_fail: true }));
    expect(s.errors & 1).toBe(1);
    expect(s.flags & StateFlag.RELAYS_CLOSED).toBe(0);
    const a = r.step(car({ cp: "A", diode_fail: false }));
    expect(a.errors & 1).toBe(0);
  });

  test("welded relays stay closed whatever happens, and open at the next step once unwelded", () => {
    const r = rig({ weld_relays: true });
    toCharging(r);
    expect(r.step(car({ cp: "A" })).flags & StateFlag.RELAYS_CLOSED).toBeTruthy();
    expect(r.step().flags & StateFlag.RELAYS_CLOSED).toBeTruthy();
    r.board.setWeld(false);
    expect(r.step().flags & StateFlag.RELAYS_CLOSED).toBe(0);
  });

  test("the car may leave F: the board reports F while the host drives it, then the car's level", () => {
    const r = rig();
    toCharging(r);
    r.host({ mode: "F", allow: false });
    expect(CP[r.step(car({ cp: "A" })).cp]).toBe("F");
    r.host({ mode: "X1" });
    expect(CP[r.step().cp]).toBe("A");
  });
});

describe("host watchdog", () => {
  test("no valid host report for 500 ms: relays open and CP F; the next valid report ends it", () => {
    const r = rig();
    toCharging(r);
    r.step(undefined, false); // 250 ms quiet
    const s1 = r.step(undefined, false); // 500 ms quiet
    expect(s1.flags & StateFlag.HOST_WATCHDOG).toBe(0);
    const s2 = r.step(undefined, false); // 750 ms quiet
    expect(s2.flags & StateFlag.HOST_WATCHDOG).toBeTruthy();
    expect(CP[s2.cp]).toBe("F");
    expect(s2.flags & StateFlag.RELAYS_CLOSED).toBe(0);
    const s3 = r.step(); // host back, still asking for PWM + allow
    expect(s3.flags & StateFlag.HOST_WATCHDOG).toBe(0);
    expect(CP[s3.cp]).toBe("C");
  });

  test("invalid host reports do not feed the watchdog and are counted", () => {
    const r = rig();
    toCharging(r);
    const junk = new Uint8Array(64);
    junk[0] = 0x10;
    junk[1] = 1;
    junk[11] = 2; // phases 2: out of range
    for (let k = 0; k < 3; k++) {
      expect(r.board.hostReport(junk, 64, r.now())).toBe(false);
      r.step(undefined, false);
    }
    expect(r.states.at(-1)!.flags & StateFlag.HOST_WATCHDOG).toBeTruthy();
    expect(r.board.hostRejected()).toBe(3);
    expect(r.states.at(-1)!.hostRejected).toBe(3);
  });

  test("the board starts in its watchdog state (F, relays open) until the host speaks", () => {
    const board = new SimBoard({ max_current_A_import: 32, connector_type: "IEC62196Type2Cable", pp_resistor_ohm: 220.1, weld_relays: false }, 0);
    const out: StateReport[] = [];
    board.step(250, (b) => {
      if (b[0] === ReportId.State) {
        const s = emptyState();
        decodeState(b, s);
        out.push(s);
      }
    });
    expect(out[0]!.flags & StateFlag.HOST_WATCHDOG).toBeTruthy();
    expect(CP[out[0]!.cp]).toBe("F");
  });
});

describe("meter", () => {
  test("current is min(car request, PWM limit) per phase and energy integrates over time", () => {
    const r = rig();
    toCharging(r, 26.67, { ev_max_current_A: 10 }); // PWM offers 16 A, the car takes 10 A
    for (let k = 0; k < 40; k++) r.step(); // 10 s
    const m = r.meters.at(-1)!;
    for (let k = 0; k < 3; k++) expect(m.current[k]! / 100).toBeCloseTo(10, 0);
    // ≈ 3 × 225 V × 10 A × 10 s ≈ 18.75 Wh (±1 % noise; first step after closing counts too)
    expect(m.importTotal / 10).toBeGreaterThan(17);
    expect(m.importTotal / 10).toBeLessThan(21);
    for (let k = 0; k < 3; k++) expect(m.voltageL[k]! / 100).toBeLessThan(232.3 - 4);
  });

  test("the PWM limit caps a greedy car: 16 A PWM, car asks 32 A", () => {
    const r = rig();
    toCharging(r, 26.67, { ev_max_current_A: 32 });
    r.step();
    r.step();
    expect(r.meters.at(-1)!.current[0]! / 100).toBeCloseTo(16, 0);
  });

  test("one-phase car draws on L1 only", () => {
    const r = rig();
    toCharging(r, 26.67, { ev_max_current_A: 16, three_phases: false });
    r.step();
    r.step();
    const m = r.meters.at(-1)!;
    expect(m.current[0]! / 100).toBeCloseTo(16, 0);
    expect(m.current[1]).toBe(0);
    expect(m.current[2]).toBe(0);
  });

  test("A→B resets the meter and sends a fresh reading before the STATE that reports B", () => {
    const r = rig();
    toCharging(r, 26.67, { ev_max_current_A: 16 });
    for (let k = 0; k < 20; k++) r.step();
    expect(r.meters.at(-1)!.importTotal).toBeGreaterThan(0);
    r.step(car({ cp: "A" }));
    r.order.length = 0;
    r.step(car({ cp: "B" }));
    expect(r.order.slice(0, 2)).toEqual(["meter", "state:B"]);
    expect(r.meters.at(-1)!.importTotal).toBe(0);
  });

  test("meter readings go out every 500 ms; a STATE every step", () => {
    const r = rig();
    r.order.length = 0;
    for (let k = 0; k < 8; k++) r.step(car({ cp: "A" }));
    expect(r.order.filter((o) => o === "meter").length).toBe(4);
    expect(r.order.filter((o) => o.startsWith("state")).length).toBe(8);
  });

  test("the same seed gives the same readings", () => {
    const a = rig();
    const b = rig();
    toCharging(a, 26.67, { ev_max_current_A: 16 });
    toCharging(b, 26.67, { ev_max_current_A: 16 });
    for (let k = 0; k < 8; k++) {
      a.step();
      b.step();
    }
    expect(a.meters).toEqual(b.meters);
  });
});

describe("RCD", () => {
  test("above 5 mA the RCD trips (ac_rcd/DC bit), the relay opens; back below 5 mA it clears", () => {
    const r = rig();
    toCharging(r);
    r.step(car({ cp: "C", rcd_current_mA: 10.5 })); // set value applied; checked next step
    const s = r.step();
    expect(s.rcdTripped).toBe(true);
    expect(s.errors & 2).toBe(2);
    expect(s.flags & StateFlag.RELAYS_CLOSED).toBe(0);
    r.step(car({ cp: "C", rcd_current_mA: 0.2 }));
    const s2 = r.step();
    expect(s2.rcdTripped).toBe(false);
    expect(s2.errors & 2).toBe(0);
  });

  test("4.9 mA does not trip", () => {
    const r = rig();
    toCharging(r);
    r.step(car({ cp: "C", rcd_current_mA: 4.9 }));
    expect(r.step().rcdTripped).toBe(false);
  });
});

describe("PP and capabilities", () => {
  test("PP bands of §2.10", () => {
    const band = (ohm: number) => AMPACITIES[ppAmpacityCode(ohm)];
    expect(band(80)).toBe("None");
    expect(band(100)).toBe("A_63_3ph_70_1ph");
    expect(band(140)).toBe("A_63_3ph_70_1ph");
    expect(band(220.1)).toBe("A_32");
    expect(band(308)).toBe("A_32");
    expect(band(680)).toBe("A_20");
    expect(band(1500)).toBe("A_13");
    expect(band(2460)).toBe("A_13");
    expect(band(2461)).toBe("None");
  });

  test("a socket board reports the PP band; a tethered cable reports None", () => {
    const sock = rig({ connector_type: "IEC62196Type2Socket", pp_resistor_ohm: 680 });
    expect(AMPACITIES[sock.step(car()).ampacity]).toBe("A_20");
    const cable = rig();
    expect(AMPACITIES[cable.step(car()).ampacity]).toBe("None");
  });

  test("a socket without a valid PP resistor never closes the relay", () => {
    const r = rig({ connector_type: "IEC62196Type2Socket", pp_resistor_ohm: 5000 });
    r.step(car({ cp: "B" }));
    r.host({ mode: "PWM", duty: 26.67, allow: true });
    r.step(car({ cp: "C" }));
    expect(r.step().flags & StateFlag.RELAYS_CLOSED).toBe(0);
  });

  test("INFO at boot carries the binding capabilities", () => {
    let info = emptyInfo();
    const board = new SimBoard({ max_current_A_import: 20, connector_type: "IEC62196Type2Socket", pp_resistor_ohm: 220.1, weld_relays: false }, 0);
    board.step(250, (b) => {
      if (b[0] === ReportId.Info) decodeInfo(b, info);
    });
    expect(info).toMatchObject({
      maxImport: 200,
      minImport: 60,
      maxPhasesImport: 3,
      minPhasesImport: 1,
      maxExport: 160,
      minExport: 0,
      maxPhasesExport: 3,
      minPhasesExport: 1,
      phaseSwitching: true,
      socket: true,
    });
  });
});

describe("phase switching and lock", () => {
  test("a one-phase switch from the host limits current to L1; lock state follows the host", () => {
    const r = rig();
    toCharging(r, 26.67, { ev_max_current_A: 16 });
    r.host({ phases: 1, lock: true });
    r.step();
    const s = r.step();
    expect(s.flags & StateFlag.THREE_PHASES).toBe(0);
    expect(s.lock).toBe(1);
    expect(r.meters.at(-1)!.current[1]).toBe(0);
    expect(r.board.snapshot().phases).toBe(1);
  });
});
