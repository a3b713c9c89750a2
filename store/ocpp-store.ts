// What OCPP keeps across restarts (migration 3): the transaction-message queue of ocpp.md §8, the
// mapping of our local transaction ids to the CSMS's transactionId, and a process-wide key-value
// table. Every call is one SQLite statement (or transaction) and durable when it returns.
import type { Database } from "bun:sqlite";
import { decodeJsonValue, encodeJsonValue } from "./json-value.ts";
import { lazyStatement } from "./lazy-statement.ts";

export interface QueuedMessage {
  id: number;
  action: string;
  payload: unknown;
  /** Local transaction id the message belongs to; null for none. */
  tx: number | null;
  attempts: number;
}

export interface OcppTransactionRow {
  local: number;
  uuid: string;
  evse: number;
  csms_id: number | null;
}

export interface GlobalKv {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  delete(key: string): void;
}

export interface OcppStore {
  readonly kv: GlobalKv;
  readonly queue: {
    push(action: string, payload: unknown, tx: number | null): number;
    /** Oldest first. */
    all(): QueuedMessage[];
    remove(id: number): void;
    setAttempts(id: number, attempts: number): void;
    count(): number;
  };
  readonly transactions: {
    /** A new local id for the session `uuid` on `evse` (the same id again for a known uuid). */
    open(uuid: string, evse: number): number;
    byUuid(uuid: string): OcppTransactionRow | null;
    byLocal(local: number): OcppTransactionRow | null;
    byCsmsId(csmsId: number): OcppTransactionRow | null;
    setCsmsId(local: number, csmsId: number): void;
    /** Forgets transactions that have no message left in the queue, except `keep`. */
    prune(keep: number[]): void;
  };
}

export function prepareOcppStore(db: Database): OcppStore {
  const kvGet = lazyStatement<{ value: string }, { key: string }>(db, "SELECT value FROM kv WHERE key = $key");
  const kvSet = lazyStatement<never, { key: string; value: string }>(
    db,
    "INSERT INTO kv (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE value <> excluded.value",
  );
  const kvDelete = lazyStatement<never, { key: string }>(db, "DELETE FROM kv WHERE key = $key");
  const qPush = lazyStatement<{ id: number }, { action: string; payload: string; tx: number | null }>(
    db,
    "INSERT INTO ocpp_queue (action, payload, tx) VALUES ($action, $payload, $tx) RETURNING id",
  );
  const qAll = lazyStatement<{ id: number; action: string; payload: string; tx: number | null; attempts: number }, []>(db, "SELECT * FROM ocpp_queue ORDER BY id");
  const qRemove = lazyStatement<never, { id: number }>(db, "DELETE FROM ocpp_queue WHERE id = $id");
  const qAttempts = lazyStatement<never, { id: number; attempts: number }>(db, "UPDATE ocpp_queue SET attempts = $attempts WHERE id = $id");
  const qCount = lazyStatement<{ n: number }, []>(db, "SELECT COUNT(*) AS n FROM ocpp_queue");
  const txInsert = lazyStatement<{ local: number }, { uuid: string; evse: number }>(
    db,
    "INSERT INTO ocpp_transactions (uuid, evse) VALUES ($uuid, $evse) ON CONFLICT (uuid) DO UPDATE SET evse = evse RETURNING local",
  );
  const txByUuid = lazyStatement<OcppTransactionRow, { uuid: string }>(db, "SELECT * FROM ocpp_transactions WHERE uuid = $uuid");
  const txByLocal = lazyStatement<OcppTransactionRow, { local: number }>(db, "SELECT * FROM ocpp_transactions WHERE local = $local");
  const txByCsms = lazyStatement<OcppTransactionRow, { csms: number }>(db, "SELECT * FROM ocpp_transactions WHERE csms_id = $csms ORDER BY local DESC LIMIT 1");
  const txSetCsms = lazyStatement<never, { local: number; csms: number }>(db, "UPDATE ocpp_transactions SET csms_id = $csms WHERE local = $local");
  const txAll = lazyStatement<{ local: number }, []>(db, "SELECT local FROM ocpp_transactions WHERE local NOT IN (SELECT tx FROM ocpp_queue WHERE tx IS NOT NULL)");
  const txDelete = lazyStatement<never, { local: number }>(db, "DELETE FROM ocpp_transactions WHERE local = $local");

  return {
    kv: {
      get(key) {
        const row = kvGet.get({ key });
        return row ? decodeJsonValue(row.value) : null;
      },
      set(key, value) {
        const text = encodeJsonValue("kv", key, value);
        kvSet.run({ key, value: text });
      },
      delete(key) {
        kvDelete.run({ key });
      },
    },
    queue: {
      push(action, payload, tx) {
        return qPush.get({ action, payload: JSON.stringify(payload), tx })!.id;
      },
      all() {
        return qAll.all().map((r) => ({ id: r.id, action: r.action, payload: JSON.parse(r.payload) as unknown, tx: r.tx, attempts: r.attempts }));
      },
      remove(id) {
        qRemove.run({ id });
      },
      setAttempts(id, attempts) {
        qAttempts.run({ id, attempts });
      },
      count() {
        return qCount.get()?.n ?? 0;
      },
    },
    transactions: {
      open(uuid, evse) {
        return txInsert.get({ uuid, evse })!.local;
      },
      byUuid: (uuid) => txByUuid.get({ uuid }),
      byLocal: (local) => txByLocal.get({ local }),
      byCsmsId: (csms) => txByCsms.get({ csms }),
      setCsmsId(local, csms) {
        txSetCsms.run({ local, csms });
      },
      prune(keep) {
        const spare = new Set(keep);
        for (const { local } of txAll.all()) if (!spare.has(local)) txDelete.run({ local });
      },
    },
  };
}
