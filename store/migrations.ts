// Schema versions, applied in order and counted in `PRAGMA user_version`. Append only: a
// shipped migration is never edited, a new one is added at the end.
import type { Database } from "bun:sqlite";

const MIGRATIONS: readonly string[] = [
  // 1. The open-transaction record (behavior.md §16.1), one row per EVSE. Same table as the interim
  //    api/transaction-store.ts wrote at user_version 0, hence IF NOT EXISTS: such files open as-is.
  //    The session history: one row per session uuid and EVSE; JSON columns hold interface objects.
  `CREATE TABLE IF NOT EXISTS open_transaction (evse INTEGER PRIMARY KEY, record TEXT NOT NULL);
   CREATE TABLE sessions (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     evse INTEGER NOT NULL,
     uuid TEXT NOT NULL,
     state TEXT NOT NULL DEFAULT 'active',
     started_at TEXT,
     started_by TEXT,
     session_id_tag TEXT,
     reservation_id INTEGER,
     transaction_started_at TEXT,
     transaction_id_tag TEXT,
     start_meter_value TEXT,
     latest_meter_value TEXT,
     start_signed_meter_value TEXT,
     signed_meter_value TEXT,
     stop_reason TEXT,
     stop_id_tag TEXT,
     transaction_finished_at TEXT,
     finished_at TEXT,
     UNIQUE (evse, uuid)
   );
   CREATE INDEX sessions_by_evse ON sessions (evse);`,
  // 2. Small per-EVSE facts that must outlive the process (store/evse-kv.ts), such as whether the
  //    simulated car was plugged in (sim.keep_plug_state_across_restart). Values are JSON text.
  `CREATE TABLE evse_kv (evse INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (evse, key));`,
  // 3. OCPP (store/ocpp-store.ts): the transaction-message queue (ocpp.md §8: written before a
  //    message is sent, deleted on its CALLRESULT), the local → CSMS transaction ids, and a global
  //    key-value table (configuration keys, availability, local list, authorization cache, profiles).
  `CREATE TABLE ocpp_queue (id INTEGER PRIMARY KEY AUTOINCREMENT, action TEXT NOT NULL, payload TEXT NOT NULL, tx INTEGER, attempts INTEGER NOT NULL DEFAULT 0);
   CREATE TABLE ocpp_transactions (local INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL UNIQUE, evse INTEGER NOT NULL, csms_id INTEGER);
   CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Current version of the file; migrates it up. Returns the version found before migrating. */
export function migrate(db: Database): number {
  const found = db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;
  if (found > SCHEMA_VERSION) return found; // the caller refuses; nothing is written
  for (let version = found; version < SCHEMA_VERSION; version++) {
    db.transaction(() => {
      db.run(MIGRATIONS[version]!);
      db.run(`PRAGMA user_version = ${version + 1}`);
    })();
  }
  return found;
}
