// The persistent record of the running transaction (behavior.md §16.1, D7), one row per EVSE in
// one SQLite file at `storage.path` (":memory:" keeps nothing). Each save is one SQLite
// transaction, so a crash leaves either the old or the new record, never half of one.
// (Lives here until persistence gets a folder of its own; main.ts is its only user.)
import { Database } from "bun:sqlite";
import type { TransactionRecord, TransactionStore } from "../core/ports.ts";

export interface Storage {
  storeFor(evseIndex: number): TransactionStore;
  close(): void;
}

export function openStorage(path: string): Storage {
  const db = new Database(path, { create: true, strict: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = FULL");
  db.run("CREATE TABLE IF NOT EXISTS open_transaction (evse INTEGER PRIMARY KEY, record TEXT NOT NULL)");
  const load = db.query<{ record: string }, { evse: number }>("SELECT record FROM open_transaction WHERE evse = $evse");
  const save = db.query("INSERT INTO open_transaction (evse, record) VALUES ($evse, $record) ON CONFLICT(evse) DO UPDATE SET record = excluded.record");
  const clear = db.query("DELETE FROM open_transaction WHERE evse = $evse");

  return {
    storeFor(evse) {
      return {
        load() {
          const row = load.get({ evse });
          if (!row) return null;
          try {
            return JSON.parse(row.record) as TransactionRecord;
          } catch {
            return null; // an unreadable record cannot be finished; boot goes on without it
          }
        },
        save(record) {
          save.run({ evse, record: JSON.stringify(record) });
        },
        clear() {
          clear.run({ evse });
        },
      };
    },
    close() {
      db.close();
    },
  };
}
