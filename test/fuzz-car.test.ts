// Issue 5 item 4: random car scripts never crash the simulator. Random strings and mutated valid
// scripts go into parseCarScript (only CarScriptError may come out), and into a real Car stepping
// a real SimBoard (sim/board/physics.ts) for many ticks while a random host sends valid and
// broken CONTROL reports. The board's own safety rules must hold whatever happens
// (docs/board-protocol.md §7): relays never closed in A, B, E or F, never without the host's
// permission, never on a diode fault or RCD trip, never while the host watchdog holds, and they
// close only with PWM running — unless the contacts are welded.
import { expect, test } from "bun:test";
import fc from "fast-check";
import * as v from "valibot";
import { decodeInfo, decodeMeter, decodeState, emptyControl, emptyInfo, emptyMeter, emptyState, encodeControl, Reject, ReportId, reportKind, ControlFlag } from "../board-protocol/index.ts";
import { SimBoard, BOARD_STEP_MS, type SimBoardOptions } from "../sim/board/physics.ts";
import { Car, CarBusyError, CarCommandSchema, CarScriptError, parseCarScript } from "../sim/car/index.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20250301);

// ---- scripts ---------------------------------------------------------------------------------------
const num = fc.oneof(
  fc.integer({ min: -5, max: 40 }).map(String),
  fc.constantFrom("0", "0.5", "1e3", "-0", "+3", ".5", "1.", "3", "16", "1e400", "NaN", "Infinity", "0x10", "1abc", "", "1,2"),
);
const piece = fc.oneof(
  fc.tuple(fc.constant("sleep"), num).map(([c, a]) => `${c} ${a}`),
  fc.constant("iec_wait_pwr_ready"),
  fc.tuple(fc.constantFrom("draw_power_regulated", "draw_power_fixed"), num, fc.constantFrom("3", "1", "2", "0")).map(([c, a, p]) => `${c} ${a},${p}`),
  fc.constantFrom("pause", "unplug", "error_e", "diode_fail", "set_soc 50", "iso_wait_slac_matched", "wait_for_real_plugin", "plugin", "PAUSE", "  Unplug  "),
  fc.tuple(fc.constant("rcd_current"), fc.constantFrom("0.1", "3", "6", "20", "-1")).map(([c, a]) => `${c} ${a}`),
);
const validish = fc.array(piece, { minLength: 1, maxLength: 8 }).chain((ps) => fc.constantFrom(";", "\n", "\r\n", " ; ").map((sep) => ps.join(sep)));
const charEdit = fc.record({ at: fc.nat(), kind: fc.integer({ min: 0, max: 2 }), ch: fc.string({ minLength: 1, maxLength: 2, unit: "binary" }) });
const mutated = fc.tuple(validish, fc.array(charEdit, { minLength: 1, maxLength: 3 })).map(([s, edits]) => {
  let out = s;
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.at % out.length;
    if (e.kind === 0) out = out.slice(0, at) + e.ch + out.slice(at);
    else if (e.kind === 1) out = out.slice(0, at) + out.slice(at + 1);
    else out = out.slice(0, at) + e.ch + out.slice(at + 1);
  }
  return out;
});
const scriptArb = fc.oneof({ weight: 3, arbitrary: validish }, { weight: 3, arbitrary: mutated }, { weight: 1, arbitrary: fc.string({ maxLength: 60, unit: "binary" }) });

test("parseCarScript takes any string and only ever throws CarScriptError, naming the command", () => {
  let parsed = 0;
  let refused = 0;
  fc.assert(
    fc.property(scriptArb, (script) => {
      try {
        const commands = parseCarScript(script);
        expect(commands.length).toBeGreaterThan(0);
        for (const c of commands) {
          expect(v.is(CarCommandSchema, c)).toBe(true);
          for (const value of Object.values(c)) if (typeof value === "number") expect(Number.isFinite(value)).toBe(true);
        }
        parsed++;
      } catch (err) {
        if (!(err instanceof CarScriptError)) throw err;
        expect(script.toLowerCase()).toContain(err.command);
        refused++;
      }
    }),
    { seed: SEED, numRuns: 20_000 },
  );
  expect(parsed).toBeGreaterThan(2_000);
  expect(refused).toBeGreaterThan(2_000);
});

// ---- car + board ------------------------------------------------------------------------------------
type HostOp =
  | { op: "control"; mode: number; duty: number; allow: boolean; enable: boolean; phases: number; rcdReset: number }
  | { op: "junk"; bytes: Uint8Array; length: number }
  | { op: "silent"; steps: number }
  | { op: "script"; script: string; replace: boolean }
  | { op: "stop" }
  | { op: "weld"; on: boolean }
  | { op: "step" };

const hostOp: fc.Arbitrary<HostOp> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant("control" as const),
      mode: fc.oneof({ weight: 3, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constantFrom(0, 2) }),
      duty: fc.oneof(fc.constantFrom(1000, 2667, 5333, 500, 9700, 10000), fc.integer({ min: 1, max: 10000 })),
      allow: fc.boolean(),
      enable: fc.oneof({ weight: 8, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      phases: fc.constantFrom(1, 3),
      rcdReset: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("junk" as const), bytes: fc.uint8Array({ minLength: 64, maxLength: 64 }), length: fc.constantFrom(64, 63, 10) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("silent" as const), steps: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("script" as const), script: scriptArb, replace: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ op: "stop" as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("weld" as const), on: fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 4, arbitrary: fc.constant(false) }) }) },
  { weight: 12, arbitrary: fc.constant({ op: "step" as const }) },
);

const boardOpts = fc.record({
  max_current_A_import: fc.constantFrom(6, 16, 32),
  connector_type: fc.constantFrom("IEC62196Type2Cable" as const, "IEC62196Type2Socket" as const),
  pp_resistor_ohm: fc.constantFrom(220.1, 1500, 680, 100, 0, 5000),
  weld_relays: fc.constant(false),
  seed: fc.nat(),
});

/** Steps car and board for every op; returns what it saw, throws on a broken rule. */
function drive(opts: SimBoardOptions, ops: HostOp[], tally: Record<string, number>): void {
  let now = 0;
  const board = new SimBoard(opts, now);
  const car = new Car();
  const ctl = emptyControl();
  const buf = new Uint8Array(64);
  const st = emptyState();
  const mt = emptyMeter();
  const inf = emptyInfo();
  let seq = 0;
  let welded = false;
  let lastGood = { mode: 0, allow: false };
  let relays = false;
  const sink = (r: Uint8Array) => {
    const kind = reportKind(r, r.length);
    const ok = kind === ReportId.State ? decodeState(r, st) : kind === ReportId.Meter ? decodeMeter(r, mt) : kind === ReportId.Info ? decodeInfo(r, inf) : Reject.UnknownId;
    if (ok !== Reject.None) throw new Error(`the board sent a report it would itself refuse (id ${r[0]})`);
    tally.reports = (tally.reports ?? 0) + 1;
  };
  const step = () => {
    now += BOARD_STEP_MS;
    board.applyCar(car.step(board.carInputs()));
    board.step(now, sink);
    tally.steps = (tally.steps ?? 0) + 1;
    const s = board.snapshot();
    const was = relays;
    relays = s.relays;
    if (!relays) return;
    tally.closedSteps = (tally.closedSteps ?? 0) + 1;
    if (welded) return; // welded contacts stay closed: the one case the rules cannot help
    const where = `cp ${"ABCDEF"[s.cp]}, ${JSON.stringify(s)}, host ${JSON.stringify(lastGood)}, car ${JSON.stringify(car.status())}`;
    if (s.cp !== 2 && s.cp !== 3) throw new Error(`relays closed in ${where}`);
    if (!lastGood.allow) throw new Error(`relays closed without the host's permission: ${where}`);
    if (s.diodeFault || s.rcdTripped || s.watchdog) throw new Error(`relays closed despite a fault or the host watchdog: ${where}`);
    if (!was && s.pwm < 0) throw new Error(`relays closed without PWM running: ${where}`);
  };
  for (const op of ops) {
    switch (op.op) {
      case "control":
        ctl.seq = ++seq;
        ctl.heartbeat = seq;
        ctl.cpMode = op.mode;
        ctl.duty = op.mode === 1 ? op.duty : 10000;
        ctl.flags = (op.enable ? ControlFlag.ENABLE : 0) | (op.allow ? ControlFlag.ALLOW_POWER_ON : 0);
        ctl.phases = op.phases;
        ctl.rcdReset = op.rcdReset;
        encodeControl(ctl, buf);
        if (board.hostReport(buf, 64, now)) lastGood = { mode: op.mode, allow: op.allow };
        else throw new Error("the board refused a valid CONTROL report");
        break;
      case "junk": {
        const before = board.hostRejected();
        const accepted = board.hostReport(op.bytes, op.length, now);
        if (accepted) lastGood = { mode: op.bytes[6]!, allow: (op.bytes[7]! & ControlFlag.ALLOW_POWER_ON) !== 0 };
        else expect(board.hostRejected()).toBe(before + 1);
        break;
      }
      case "silent":
        for (let k = 0; k < op.steps; k++) step();
        break;
      case "script":
        try {
          car.post(op.script, op.replace);
          tally.scripts = (tally.scripts ?? 0) + 1;
        } catch (err) {
          if (!(err instanceof CarScriptError || err instanceof CarBusyError)) throw err;
        }
        break;
      case "stop":
        car.stop();
        break;
      case "weld":
        // Weld only sticks relays that are closed; keep the flag for the rest of the run.
        welded ||= op.on;
        board.setWeld(op.on);
        break;
      case "step":
        step();
        break;
    }
  }
}


test("random car scripts and host reports never crash the car or the board, and the board's relay rules hold", () => {
  const tally: Record<string, number> = {};
  fc.assert(
    fc.property(boardOpts, fc.array(hostOp, { minLength: 300, maxLength: 400 }), (opts, ops) => drive(opts, ops, tally)),
    { seed: SEED, numRuns: 300, endOnFailure: true },
  );
  expect(tally.steps).toBeGreaterThan(50_000);
  expect(tally.scripts).toBeGreaterThan(1_000);
  // Relays did close in the run: the rules were tested while power flowed, not only when idle.
  expect(tally.closedSteps).toBeGreaterThan(1_000);
}, 60_000);
