// Bench mode of the simulated board (bench/run.ts): with the relays closed the car toggles C→B;
// the sample is the time, on this thread's clock, from switching CP to B until the output report
// that withdraws allow_power_on arrives. Then back to C; the worker must see PWM on and
// allow_power_on true again to close, and the next sample starts. Runs synchronously on the
// sim thread (Atomics.wait is allowed here and gives the sharpest clock).
import type { CarOutputs } from "../car/index.ts";
import type { BenchOptions, BoardEnd, Doorbell } from "../../board-protocol/index.ts";
import type { SimBoard } from "./physics.ts";

const car = (cp: "B" | "C"): CarOutputs => ({
  cp,
  diode_fail: false,
  ev_max_current_A: 0,
  three_phases: true,
  rcd_current_mA: 0.1,
  allow_power_on: cp === "C",
});
const IN_C = car("C");
const IN_B = car("B");

export function runBench(bell: Doorbell, board: SimBoard, port: BoardEnd, opts: BenchOptions): Float64Array {
  const out = new Float64Array(opts.samples);
  const send = (r: Uint8Array) => port.send(r);
  let n = 0;
  let opening = false;
  let t0 = 0;
  board.applyCar(IN_C);
  board.fastStep(performance.now(), send);
  const deadline = performance.now() + opts.timeoutMs;
  while (n < opts.samples) {
    const seen = bell.value();
    let got = false;
    for (let r = port.peek(); r !== null; r = port.peek()) {
      const now = performance.now();
      const ok = board.hostReport(r, r.length, now);
      port.next();
      if (!ok) continue;
      got = true;
      if (opening && !board.hostAllows()) {
        out[n++] = (now - t0) * 1000;
        opening = false;
        board.applyCar(IN_C);
      }
    }
    if (got) {
      board.fastStep(performance.now(), send);
      if (!opening && board.relaysClosed() && n < opts.samples) {
        board.applyCar(IN_B);
        t0 = performance.now();
        board.fastStep(t0, send);
        opening = true;
      }
    }
    if (performance.now() > deadline) break;
    bell.waitSync(seen, 5);
  }
  return out.subarray(0, n);
}
