// One SQLite file for every EVSE of the process (http-api.md: `storage.path`, ":memory:" keeps
// nothing): the open-transaction record of behavior.md §16.1, the session history and small
// per-EVSE facts (evse-kv.ts).
// WAL with synchronous=FULL: a call that wrote has reached the disk when it returns, so whatever
// the kernel publishes after a write survives kill -9 and power loss. One process owns the file: it
// holds the file's lock (storage-lock.ts) while the store is open.
import { Database } from "bun:sqlite";
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import * as v from "valibot";
import type { TransactionRecord, TransactionStore } from "../core/ports.ts";
import { prepareKv, type EvseKv } from "./evse-kv.ts";
import { migrate, SCHEMA_VERSION } from "./migrations.ts";
import { prepareOcppStore, type OcppStore } from "./ocpp-store.ts";
import { prepareHistory, type SessionHistory } from "./session-history.ts";
import { lockStorage, type StorageLock } from "./storage-lock.ts";
import { StoreError, type StoreErrorKind } from "./store-error.ts";

export type EvseStore = TransactionStore & SessionHistory & { readonly kv: EvseKv };

export interface Store {
  /** The file in use; ":memory:" when nothing is kept. */
  readonly path: string;
  /** Why the configured file is not in use as it was (set by openStoreSafely); null when all is well. */
  readonly problem: string | null;
  /** The view of one EVSE (index from 1); EVSEs never see each other's rows. */
  forEvse(index: number): EvseStore;
  /** OCPP's queue, transaction ids and process-wide key-value table (store/ocpp-store.ts). */
  readonly ocpp: OcppStore;
  close(): void;
}

// Only what the kernel needs to finish the transaction (uuid) is required; it checks the rest
// itself, so a record with an odd meter value is still finished rather than dropped.
const StoredRecordSchema = v.looseObject({ uuid: v.pipe(v.string(), v.minLength(1)), started_at: v.string() });

const CORRUPT = new Set(["SQLITE_NOTADB", "SQLITE_CORRUPT"]);

function classify(err: unknown, path: string): StoreError {
  if (err instanceof StoreError) return err;
  const code = String((err as { code?: unknown }).code ?? "");
  const message = (err as Error).message ?? String(err);
  const kind: StoreErrorKind = CORRUPT.has(code) ? "corrupt" : "unwritable";
  const what = kind === "corrupt" ? "is not a usable SQLite database" : "cannot be opened for writing";
  return new StoreError(kind, path, `${what} (${message})`, { cause: err });
}

/** Fails before SQLite does, with a message an operator can act on. Opens nothing and creates nothing. */
export function checkLocation(path: string): void {
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) {
    throw new StoreError("missing_directory", path, `directory ${JSON.stringify(dir)} does not exist (not created: it may be an unmounted volume)`);
  }
  if (!statSync(dir).isDirectory()) throw new StoreError("missing_directory", path, `${JSON.stringify(dir)} is not a directory`);
  if (!existsSync(path)) return;
  const stat = statSync(path);
  if (stat.isDirectory()) throw new StoreError("unwritable", path, "is a directory, not a file");
  // A device, FIFO or socket: SQLite would block on it or create its -journal/-wal beside it
  // (as root, /dev/null-journal), so it is refused before anything is opened.
  if (!stat.isFile()) throw new StoreError("unwritable", path, "is not a regular file (a device, FIFO or socket)");
}

/** Checked before SQLite sees the file: closing a connection to a non-database would delete its
 * -wal file, which may hold the last committed records. */
function checkHeader(path: string): void {
  if (!existsSync(path) || statSync(path).size === 0) return;
  if (!hasSqliteHeader(path)) throw new StoreError("corrupt", path, "is not an SQLite database (wrong file header)");
}

const SQLITE_HEADER = Buffer.from("SQLite format 3\0", "latin1");

function hasSqliteHeader(path: string): boolean {
  const head = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(path, "r");
  try {
    return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(SQLITE_HEADER);
  } finally {
    closeSync(fd);
  }
}

function prepare(db: Database, path: string): void {
  db.run("PRAGMA busy_timeout = 2000");
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = FULL");
  // A damaged page would otherwise surface mid-charge as a failed write; find it while relays are open.
  const check = db.query<{ quick_check: string }, []>("PRAGMA quick_check").all();
  if (check.length !== 1 || check[0]!.quick_check !== "ok") {
    throw new StoreError("corrupt", path, `fails the integrity check (${check.map((r) => r.quick_check).slice(0, 3).join("; ")})`);
  }
  const found = migrate(db);
  if (found > SCHEMA_VERSION) {
    throw new StoreError("newer_schema", path, `was written by a newer evse-manager (schema ${found}, this one knows ${SCHEMA_VERSION}); left untouched`);
  }
  // Nothing is live when the file is opened: sessions still open were cut off by the last exit.
  db.run("UPDATE sessions SET state = 'interrupted' WHERE state = 'active'");
}

/** Opens (creating if needed) the store at `path`, holding its lock (storage-lock.ts) until close.
 * Throws StoreError naming the path when the directory is missing, the file is not a regular file,
 * cannot be written, is corrupt, is from a newer version or is in use by another process. With
 * `lock` (taken by the caller for this path) the store takes it over on success; on failure the
 * caller keeps it. ":memory:" takes no lock. */
export function openStore(path: string, lock?: StorageLock): Store {
  let ownLock: StorageLock | null = null;
  if (path !== ":memory:") {
    checkLocation(path);
    // Before anything reads or writes the database: a process that does not get it changes nothing.
    ownLock = lock ?? lockStorage(path);
  }
  let db: Database;
  try {
    if (path !== ":memory:") checkHeader(path);
    db = new Database(path, { create: true, strict: true });
  } catch (err) {
    if (!lock) ownLock?.release();
    throw classify(err, path);
  }
  try {
    prepare(db, path);
  } catch (err) {
    db.close();
    if (!lock) ownLock?.release();
    throw classify(err, path);
  }

  const history = prepareHistory(db);
  const kv = prepareKv(db);
  const load = db.query<{ record: string }, { evse: number }>("SELECT record FROM open_transaction WHERE evse = $evse");
  const put = db.query<never, { evse: number; record: string }>(
    "INSERT INTO open_transaction (evse, record) VALUES ($evse, $record) ON CONFLICT (evse) DO UPDATE SET record = excluded.record",
  );
  const remove = db.query<never, { evse: number }>("DELETE FROM open_transaction WHERE evse = $evse");
  // The record and the session's running reading change together or not at all.
  const save = db.transaction((evse: number, record: TransactionRecord) => {
    put.run({ evse, record: JSON.stringify(record) });
    history.fromRecord(evse, record);
  });

  const ocpp = prepareOcppStore(db);

  return {
    path,
    problem: null,
    ocpp,
    forEvse(index) {
      if (!Number.isInteger(index) || index < 1) throw new RangeError(`evse index must be a whole number ≥ 1, got ${index}`);
      const evse = index;
      return {
        ...history.forEvse(evse),
        kv: kv.forEvse(evse),
        load() {
          const row = load.get({ evse });
          if (!row) return null;
          let value: unknown;
          try {
            value = JSON.parse(row.record);
          } catch {
            value = undefined;
          }
          const result = v.safeParse(StoredRecordSchema, value);
          if (!result.success) {
            // The row stays in place (never silently dropped); the kernel logs this and goes on.
            throw new StoreError("unreadable_record", path, `the open-transaction record of EVSE ${evse} is unreadable`);
          }
          return result.output as unknown as TransactionRecord;
        },
        save(record) {
          save(evse, record);
        },
        clear() {
          remove.run({ evse });
        },
      };
    },
    close() {
      db.close();
      ownLock?.release();
    },
  };
}
