// Small per-EVSE facts kept across restarts, as JSON under a key (table evse_kv, migration 2).
// Not for billing data: that is the open-transaction record and the session history.
import type { Database } from "bun:sqlite";
import { decodeJsonValue, encodeJsonValue } from "./json-value.ts";

export interface EvseKv {
  /** The stored value, or null when the key was never set, was deleted or does not parse. */
  get(key: string): unknown;
  /** Committed (synchronous=FULL) when it returns; writes nothing when the value is unchanged. */
  set(key: string, value: unknown): void;
  delete(key: string): void;
}

export function prepareKv(db: Database) {
  const read = db.query<{ value: string }, { evse: number; key: string }>("SELECT value FROM evse_kv WHERE evse = $evse AND key = $key");
  const write = db.query<never, { evse: number; key: string; value: string }>(
    "INSERT INTO evse_kv (evse, key, value) VALUES ($evse, $key, $value) ON CONFLICT (evse, key) DO UPDATE SET value = excluded.value WHERE value <> excluded.value",
  );
  const remove = db.query<never, { evse: number; key: string }>("DELETE FROM evse_kv WHERE evse = $evse AND key = $key");

  return {
    forEvse(evse: number): EvseKv {
      return {
        get(key) {
          const row = read.get({ evse, key });
          return row ? decodeJsonValue(row.value) : null;
        },
        set(key, value) {
          const text = encodeJsonValue("evse_kv", key, value);
          write.run({ evse, key, value: text });
        },
        delete(key) {
          remove.run({ evse, key });
        },
      };
    },
  };
}
