// Start-up must never crash-loop over storage and must never destroy billing data (issue
// "Nothing lost, nothing unsafe"). So, when the configured file cannot be used:
// - corrupt: the file (with its -wal/-shm, which belong to it and must not be replayed into a
//   new database) is renamed to `<path>.corrupt-<timestamp>` for later forensics, and a fresh
//   file takes its place. Nothing is deleted.
// - missing directory, unwritable, newer schema or anything else: the location is left exactly
//   as it is (a missing directory may be an unmounted volume; creating it would hide data under
//   the mount) and the process runs on ":memory:", with a warning that nothing survives a restart.
// Either way the kernel boots normally: relays stay open until a new session authorizes.
import { existsSync, renameSync } from "node:fs";
import { openStore, type Store } from "./sqlite-store.ts";
import { StoreError } from "./store-error.ts";

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[:.]/g, "-");
}

/** Renames the database and its companions; returns the new name of the database file. */
function moveAside(path: string, now: number): string {
  let target = `${path}.corrupt-${stamp(now)}`;
  for (let n = 1; existsSync(target); n++) target = `${path}.corrupt-${stamp(now)}-${n}`;
  for (const suffix of ["-wal", "-shm"]) {
    if (existsSync(path + suffix)) renameSync(path + suffix, target + suffix);
  }
  renameSync(path, target);
  return target;
}

function degraded(store: Store, problem: string): Store {
  return { ...store, problem };
}

function inMemory(path: string, reason: string, log: (message: string) => void): Store {
  const problem = `${reason}; running without persistence (":memory:"): an interrupted transaction will not be finished after a restart`;
  log(`WARNING ${problem}`);
  return degraded(openStore(":memory:"), problem);
}

export function openStoreSafely(path: string, log: (message: string) => void, now: () => number = Date.now): Store {
  let first: StoreError;
  try {
    return openStore(path);
  } catch (err) {
    first = err instanceof StoreError ? err : new StoreError("unwritable", path, String(err), { cause: err });
  }
  if (first.kind !== "corrupt") return inMemory(path, first.message, log);

  let moved: string;
  try {
    moved = moveAside(path, now());
  } catch (err) {
    return inMemory(path, `${first.message}; could not move it aside (${(err as Error).message})`, log);
  }
  const problem = `${first.message}; moved to ${JSON.stringify(moved)} and started a fresh database`;
  try {
    const store = openStore(path);
    log(`WARNING storage ${problem}`);
    return degraded(store, problem);
  } catch (err) {
    return inMemory(path, `${problem}, which failed too (${(err as Error).message})`, log);
  }
}
