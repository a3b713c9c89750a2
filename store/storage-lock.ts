// One process per storage file (http-api.md): a second process on the same `storage.path` must stop
// before it changes anything, or it would finish the first one's transaction as PowerLoss while
// that one still charges.
//
// The lock is `<file>.lock`, a one-page SQLite file held with an exclusive lock for the process's
// life (locking_mode=EXCLUSIVE keeps it after the transaction that took it). SQLite locks with
// fcntl, so the kernel releases the lock when the process dies, kill -9 included, and it holds
// between containers that share the volume. bun:ffi's flock is not usable: it needs the JIT, and
// the gateway binary runs without it (launch.ts). The holder's pid is written into the lock file's
// header (user_version, bytes 60–63), which another process reads as plain bytes: the SQLite lock
// forbids it to read the file through SQLite. journal_mode=MEMORY: no -journal file beside it.
//
// The lock file is never deleted: removing it would let a process that opened the old one and a
// process that creates a new one both "hold" the lock.
import { Database } from "bun:sqlite";
import { closeSync, existsSync, lstatSync, openSync, readSync, realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { StoreError } from "./store-error.ts";

/** `application_id` of a lock file ("EVML"), so that a stray file is not taken for one. */
const APPLICATION_ID = 0x45564d4c;

export interface StorageLock {
  /** The lock file. */
  readonly file: string;
  /** Idempotent. Only for closing the store: the lock is meant to live as long as the process. */
  release(): void;
}

/** Locks held by this process, by lock file. POSIX locks belong to the process, so a second open of
 * the same file here must be refused from this table: opening and closing the file again (to read
 * the pid) would silently drop the lock SQLite holds on it. Also keeps the connection from GC. */
const held = new Map<string, Database>();

/** The same lock file whatever path names the store (relative, through a symlink). */
export function lockFileFor(path: string): string {
  const abs = resolve(path);
  const real = existsSync(abs) ? realpathSync(abs) : join(realpathSync(dirname(abs)), basename(abs));
  return `${real}.lock`;
}

/** The pid in the header of a lock file held by another process, or null if it cannot be read. */
function holderPid(file: string): number | null {
  const head = Buffer.alloc(72);
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return null;
  }
  try {
    if (readSync(fd, head, 0, head.length, 0) !== head.length) return null;
  } finally {
    closeSync(fd);
  }
  if (head.readUInt32BE(68) !== APPLICATION_ID) return null;
  const pid = head.readUInt32BE(60);
  return pid > 0 ? pid : null;
}

function inUse(path: string, file: string, pid: number | null): StoreError {
  const who = pid === null ? "another evse-manager process" : `another evse-manager process (pid ${pid})`;
  return new StoreError("in_use", path, `is in use by ${who}, which holds ${JSON.stringify(file)}; only one process may use a storage file`);
}

/** Takes the lock of the store at `path` (whose directory exists). Throws StoreError "in_use" naming
 * the holder's pid when another process (or another open store of this one) holds it, and
 * "unwritable" when the lock file cannot be created or locked; either way nothing was written. */
export function lockStorage(path: string): StorageLock {
  let file: string;
  try {
    file = lockFileFor(path);
  } catch (err) {
    throw new StoreError("unwritable", path, `cannot resolve the path (${(err as Error).message})`, { cause: err });
  }
  if (held.has(file)) throw inUse(path, file, process.pid);
  // Never through a symlink or into a device: the lock file is ours alone.
  if (existsSync(file) && !lstatSync(file).isFile()) {
    throw new StoreError("unwritable", path, `lock file ${JSON.stringify(file)} is not a regular file`);
  }

  let db: Database;
  try {
    db = new Database(file, { create: true });
  } catch (err) {
    throw new StoreError("unwritable", path, `cannot create lock file ${JSON.stringify(file)} (${(err as Error).message})`, { cause: err });
  }
  try {
    db.run("PRAGMA busy_timeout = 0");
    db.run("PRAGMA journal_mode = MEMORY");
    db.run("PRAGMA locking_mode = EXCLUSIVE");
    db.run("BEGIN EXCLUSIVE");
  } catch (err) {
    db.close();
    if ((err as { code?: unknown }).code === "SQLITE_BUSY") throw inUse(path, file, holderPid(file));
    throw new StoreError("unwritable", path, `cannot lock ${JSON.stringify(file)} (${(err as Error).message})`, { cause: err });
  }
  try {
    db.run(`PRAGMA user_version = ${process.pid}`);
    db.run(`PRAGMA application_id = ${APPLICATION_ID}`);
    db.run("COMMIT");
  } catch (err) {
    db.close();
    throw new StoreError("unwritable", path, `cannot write lock file ${JSON.stringify(file)} (${(err as Error).message})`, { cause: err });
  }
  held.set(file, db);

  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      held.delete(file);
      db.close();
    },
  };
}
