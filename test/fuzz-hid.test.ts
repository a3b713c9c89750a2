// Issue 5 item 4: 100,000 valid, random and mutated HID input reports per run into the worker's
// loop, seeded (FUZZ_SEED to replay another seed), with the safety invariant checked after every
// one (bench/fuzz-hid.ts). `npm run fuzz` does 10^6.
import { expect, test } from "bun:test";
import { fuzzHid, HidFuzzRig } from "../bench/fuzz-hid.ts";
import { defaultRequested } from "../rt-worker/shm-layout.ts";
import { ControlFlag, CpMode, StateFlag } from "../board-protocol/index.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20250301);

test("100,000 random and mutated input reports never crash the worker nor let relays close unsafely", () => {
  const s = fuzzHid({ seed: SEED, reports: 100_000 });
  expect(s.reports).toBeGreaterThanOrEqual(100_000);
  // The run must exercise both sides: bad reports counted, and power actually granted.
  expect(s.rejected).toBeGreaterThan(10_000);
  expect(s.accepted).toBeGreaterThan(50_000);
  expect(s.allowedOutputs).toBeGreaterThan(5_000);
}, 60_000);

const state = (cp: number) => ({
  op: "report" as const,
  base: { kind: "state" as const, s: { cp, cpMode: 1, duty: 5333, flags: StateFlag.ENABLED, ampacity: 3, lock: 0, rcdTripped: false, errors: 0, pp: 0 } },
});

test("the worker never newly allows power while main asks for X1 (regression found by the fuzzer)", () => {
  const rig = new HidFuzzRig();
  rig.apply(state(2));
  rig.apply({ op: "request", req: { ...defaultRequested(), cpMode: CpMode.X1, allow: true, allowReason: 1 } });
  expect(rig.t.last.flags & ControlFlag.ALLOW_POWER_ON).toBe(0);
  rig.apply({ op: "request", req: { ...defaultRequested(), cpMode: CpMode.PWM, duty: 5333, allow: true, allowReason: 1 } });
  expect(rig.t.last.flags & ControlFlag.ALLOW_POWER_ON).not.toBe(0);
});

test("a permission given with PWM on outlives PWM off (the kernel's C1 rule decides when it ends)", () => {
  const rig = new HidFuzzRig();
  rig.apply(state(2));
  rig.apply({ op: "request", req: { ...defaultRequested(), cpMode: CpMode.PWM, duty: 5333, allow: true, allowReason: 1 } });
  rig.apply({ op: "request", req: { ...defaultRequested(), cpMode: CpMode.X1, allow: true, allowReason: 1 } });
  expect(rig.t.last.cpMode).toBe(CpMode.X1);
  expect(rig.t.last.flags & ControlFlag.ALLOW_POWER_ON).not.toBe(0);
  rig.apply(state(1)); // C→B ends it at once
  expect(rig.t.last.flags & ControlFlag.ALLOW_POWER_ON).toBe(0);
});
