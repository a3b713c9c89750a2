import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStorage } from "../api/transaction-store.ts";
import type { TransactionRecord } from "../core/ports.ts";

const meter = (wh: number) => ({ timestamp: "2025-01-01T00:00:00Z", energy_Wh_import: { total: wh } });
const record = (uuid: string, wh: number): TransactionRecord => ({
  uuid,
  id_tag: { id_token: { value: "RFID0001", type: "ISO14443" }, authorization_type: "RFID" },
  start_meter_value: meter(100),
  latest_meter_value: meter(wh),
  started_at: "2025-01-01T00:00:00Z",
});

describe("transaction store", () => {
  test("the open transaction survives a restart of the process (same file)", () => {
    const path = join(mkdtempSync(join(tmpdir(), "evse-store-")), "state.sqlite");
    const first = openStorage(path);
    first.storeFor(1).save(record("a", 150));
    first.storeFor(1).save(record("a", 180));
    first.close();
    const second = openStorage(path);
    expect(second.storeFor(1).load()).toEqual(record("a", 180));
    second.storeFor(1).clear();
    expect(second.storeFor(1).load()).toBeNull();
    second.close();
  });

  test("each EVSE has its own record in the one file", () => {
    const storage = openStorage(":memory:");
    storage.storeFor(1).save(record("a", 1));
    storage.storeFor(2).save(record("b", 2));
    storage.storeFor(1).clear();
    expect(storage.storeFor(1).load()).toBeNull();
    expect(storage.storeFor(2).load()?.uuid).toBe("b");
  });

  test(":memory: keeps nothing across opens", () => {
    openStorage(":memory:").storeFor(1).save(record("a", 1));
    expect(openStorage(":memory:").storeFor(1).load()).toBeNull();
  });
});
