// The steps of an update's swap, named so that the crash-safety tests can stop a process exactly
// at each one and cut the power there (SIGKILL of the supervisor and its child). A step is
// reached after its file operation is on disk. Production never sets EVSE_MANAGER_TEST_STOP_AT.
import { writeSync } from "node:fs";

export const SWAP_STEPS = [
  // In the running program (install.ts, install):
  "staged", // the upload is in .staging, signed and checked; nothing else touched
  "previous-tmp", // the running binary hard-linked to .previous.tmp
  "previous", // ... and renamed to .previous
  "marker-tmp", // the trial marker written to .trial.tmp
  "marked", // ... and renamed to .trial
  "swapped", // .staging renamed over the binary
  // In the supervisor:
  "trial", // the new binary started on trial, not yet healthy
  "rollback-rejected", // rollback: the failed binary hard-linked to .rejected
  "rollback-restored", // rollback: .previous linked back over the binary, marker not yet removed
] as const;

export type SwapStep = (typeof SWAP_STEPS)[number];

export const STOP_AT_ENV = "EVSE_MANAGER_TEST_STOP_AT";

/** Stops this process (SIGSTOP) when the tests asked for `step`. */
export function reached(step: SwapStep): void {
  if (process.env[STOP_AT_ENV] !== step) return;
  // Synchronous: the line must be out before the process stops.
  writeSync(2, `test: stopped at swap step ${step} (pid ${process.pid})\n`);
  process.kill(process.pid, "SIGSTOP");
}
