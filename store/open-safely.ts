// Start-up must never crash-loop over storage and must never destroy billing data (issue
// "Nothing lost, nothing unsafe"). So, when the configured file cannot be used:
// - corrupt: the file (with its -wal/-shm, which belong to it and must not be replayed into a
//   new database) is renamed to `<path>.corrupt-<timestamp>` for later forensics, and a fresh
//   file takes its place. Nothing is deleted.
// - missing directory, unwritable, newer schema or anything else: the location is left exactly
//   as it is (a missing directory may be an unmounted volume; creating it would hide data under
//   the mount) and the process runs on ":memory:", with a warning that nothing survives a restart.
// - not a regular file (a device such as /dev/null, a FIFO): the same as unwritable; nothing is
//   created beside it (no -journal, no lock file).
// Either way the kernel boots normally: relays stay open until a new session authorizes.
// The one refusal: a file another live process holds (storage-lock.ts) throws StoreError "in_use",
// before anything is changed; running on memory instead would hide the conflict (http-api.md:
// exit code 2). The lock is taken before a corrupt file is moved aside and kept for the fresh one.
import { existsSync, renameSync } from "node:fs";
import { checkLocation, openStore, type Store } from "./sqlite-store.ts";
import { lockStorage, type StorageLock } from "./storage-lock.ts";
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

function asStoreError(err: unknown, path: string): StoreError {
  return err instanceof StoreError ? err : new StoreError("unwritable", path, String(err), { cause: err });
}

/** Throws only StoreError "in_use" (another process holds the file). */
export function openStoreSafely(path: string, log: (message: string) => void, now: () => number = Date.now): Store {
  if (path === ":memory:") return openStore(path);
  let lock: StorageLock;
  try {
    checkLocation(path);
    lock = lockStorage(path);
  } catch (err) {
    const error = asStoreError(err, path);
    if (error.kind === "in_use") throw error;
    return inMemory(path, error.message, log);
  }

  let first: StoreError;
  try {
    return openStore(path, lock);
  } catch (err) {
    first = asStoreError(err, path);
  }
  const fallBack = (reason: string): Store => {
    lock.release(); // the file is not in use: the lock would only mislead another process
    return inMemory(path, reason, log);
  };
  if (first.kind !== "corrupt") return fallBack(first.message);

  let moved: string;
  try {
    moved = moveAside(path, now());
  } catch (err) {
    return fallBack(`${first.message}; could not move it aside (${(err as Error).message})`);
  }
  const problem = `${first.message}; moved to ${JSON.stringify(moved)} and started a fresh database`;
  try {
    const store = openStore(path, lock);
    log(`WARNING storage ${problem}`);
    return degraded(store, problem);
  } catch (err) {
    return fallBack(`${problem}, which failed too (${(err as Error).message})`);
  }
}
