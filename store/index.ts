// Public surface of store/: persistence in one SQLite file (behavior.md §16.1, D7; http-api.md storage.path).
export { openStore, type EvseStore, type Store } from "./sqlite-store.ts";
export { openStoreSafely } from "./open-safely.ts";
export { StoreError, type StoreErrorKind } from "./store-error.ts";
export type { SessionHistory } from "./session-history.ts";
export type { EvseKv } from "./evse-kv.ts";
export { SimPlugState } from "./sim-plug-state.ts";
export { LocalLimitState } from "./local-limit-state.ts";
export { SCHEMA_VERSION } from "./migrations.ts";
export * from "./session-summary.ts";
export type { OcppStore, QueuedMessage, GlobalKv, OcppTransactionRow } from "./ocpp-store.ts";
export { lockFileFor } from "./storage-lock.ts";
export { SimMeterState, snapshotOf, type SimMeterSnapshot } from "./sim-meter-state.ts";
