// `npm run fuzz`: the long fuzzing run of issue 5 item 4 — 10^6 valid, random and mutated HID
// input reports into the worker's loop (bench/fuzz-hid.ts; the test suite runs 100,000). Each run
// takes a new seed unless FUZZ_SEED replays one; FUZZ_REPORTS changes the count. Exits non-zero
// on the first violation, printed with its seed and the operations that led to it. Last line: JSON.
import { fuzzHid } from "./fuzz-hid.ts";

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const reports = Number(process.env.FUZZ_REPORTS ?? 1_000_000);

const t0 = performance.now();
try {
  const hid = fuzzHid({ seed, reports });
  const seconds = Math.round((performance.now() - t0) / 100) / 10;
  console.log(JSON.stringify({ seed, hid, seconds }));
} catch (err) {
  const cause = (err as { cause?: Error }).cause;
  console.error(`fuzz: violation with FUZZ_SEED=${seed}`);
  console.error(cause?.message ?? String(err));
  console.error(String((err as Error).message).slice(0, 4000));
  process.exit(1);
}
