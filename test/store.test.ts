import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as v from "valibot";
import type { TransactionRecord } from "../core/ports.ts";
import { SessionEventSchema, type Powermeter, type SessionEvent } from "../core/types/index.ts";
import { openStore, openStoreSafely, SCHEMA_VERSION, SessionPageSchema, SimPlugState, StoreError, type Store } from "../store/index.ts";

const dirs: string[] = [];
function tempPath(name = "evse.sqlite"): string {
  const dir = mkdtempSync(join(tmpdir(), "evse-store-"));
  dirs.push(dir);
  return join(dir, name);
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const T0 = Date.parse("2025-03-01T10:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const meter = (wh: number, s = 0): Powermeter => ({ timestamp: at(s), energy_Wh_import: { total: wh } });
const TOKEN = { id_token: { value: "RFID0001", type: "ISO14443" }, authorization_type: "RFID" } as const;
const ocmf = (tag: string) => ({
  signed_meter_data: `OCMF|{"TX":"${tag}"}|{"SA":"ECDSA-secp256r1-SHA256","SD":"30"}`,
  signing_method: "ECDSA-secp256r1-SHA256",
  encoding_method: "OCMF",
});

function record(uuid: string, startWh: number, latestWh: number, s = 0): TransactionRecord {
  return { uuid, id_tag: TOKEN, start_meter_value: meter(startWh), latest_meter_value: meter(latestWh, s), started_at: at(0) };
}

/** A real session as the kernel publishes it (behavior.md §9.1), checked against the interface schema. */
function chargingSession(uuid: string, t: number, startWh: number, stopWh: number): SessionEvent[] {
  const events: SessionEvent[] = [
    { uuid, event: "SessionStarted", timestamp: at(t), session_started: { reason: "EVConnected", meter_value: meter(startWh, t), reservation_id: 7 } },
    { uuid, event: "AuthRequired", timestamp: at(t + 1) },
    { uuid, event: "Authorized", timestamp: at(t + 2), authorization_event: { meter_value: meter(startWh, t + 2) } },
    { uuid, event: "TransactionStarted", timestamp: at(t + 2), transaction_started: { id_tag: TOKEN, meter_value: meter(startWh, t + 2), reservation_id: 7 } },
    { uuid, event: "ChargingStarted", timestamp: at(t + 3), charging_state_changed_event: { meter_value: meter(startWh, t + 3) } },
    { uuid, event: "StoppingCharging", timestamp: at(t + 3602) },
    { uuid, event: "ChargingFinished", timestamp: at(t + 3602) },
    {
      uuid,
      event: "TransactionFinished",
      timestamp: at(t + 3602),
      transaction_finished: {
        meter_value: meter(stopWh, t + 3602),
        reason: "EVDisconnected",
        start_signed_meter_value: ocmf("B"),
        signed_meter_value: ocmf("E"),
      },
    },
    { uuid, event: "SessionFinished", timestamp: at(t + 3610), session_finished: { meter_value: meter(stopWh, t + 3610) } },
  ];
  for (const e of events) v.parse(SessionEventSchema, e);
  return events;
}

describe("open-transaction record (behavior.md §16.1)", () => {
  test("save, load and clear round-trip the record of one EVSE", () => {
    const store = openStore(":memory:").forEvse(1);
    expect(store.load()).toBeNull();
    store.save(record("S1", 100, 150));
    store.save(record("S1", 100, 180, 10));
    expect(store.load()).toEqual(record("S1", 100, 180, 10));
    store.clear();
    expect(store.load()).toBeNull();
  });

  test("the record survives closing and reopening the file", () => {
    const path = tempPath();
    const first = openStore(path);
    first.forEvse(1).save(record("S1", 100, 250, 20));
    first.close();
    const second = openStore(path);
    expect(second.forEvse(1).load()).toEqual(record("S1", 100, 250, 20));
    second.close();
  });

  test("a saved record survives kill -9 of the process that wrote it", async () => {
    const path = tempPath();
    const storeModule = resolve(import.meta.dir, "../store/index.ts");
    const code = `
      const { openStore } = await import(${JSON.stringify(storeModule)});
      const store = openStore(${JSON.stringify(path)}).forEvse(1);
      store.save(${JSON.stringify(record("S-KILLED", 100, 4321, 30))});
      process.stdout.write("saved\\n");
      setInterval(() => {}, 1000);`;
    const child = Bun.spawn([process.execPath, "-e", code], { stdout: "pipe", stderr: "inherit" });
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toContain("saved");
    child.kill("SIGKILL");
    await child.exited;
    expect(child.signalCode).toBe("SIGKILL");

    const store = openStore(path);
    expect(store.forEvse(1).load()).toEqual(record("S-KILLED", 100, 4321, 30));
    store.close();
  });

  test("D7 through the store: the interrupted transaction is finished once, a second restart finds nothing", () => {
    const path = tempPath();
    const dying = openStore(path);
    const crashed = dying.forEvse(1);
    for (const e of chargingSession("S1", 0, 1000, 0).slice(0, 5)) crashed.recordEvent(e);
    crashed.save(record("S1", 1000, 1800, 600)); // the 10 s refresh, then the process dies
    dying.close(); // every write was committed: closing leaves the file as a crash would, minus the lock

    const boot1 = openStore(path);
    const evse = boot1.forEvse(1);
    const stored = evse.load();
    expect(stored).toEqual(record("S1", 1000, 1800, 600));
    evse.recordEvent({
      uuid: stored!.uuid,
      event: "TransactionFinished",
      timestamp: at(900),
      transaction_finished: { meter_value: stored!.latest_meter_value, reason: "PowerLoss", id_tag: TOKEN },
    });
    evse.clear();
    boot1.close();

    const boot2 = openStore(path);
    expect(boot2.forEvse(1).load()).toBeNull();
    const [session] = boot2.forEvse(1).listSessions().sessions;
    expect(session).toMatchObject({ uuid: "S1", state: "interrupted", stop_reason: "PowerLoss", energy_Wh: 800, finished_at: null });
    boot2.close();
  });

  test("an unreadable record is reported with the path and kept, not dropped", () => {
    const path = tempPath();
    openStore(path).close();
    const db = new Database(path);
    db.run("INSERT INTO open_transaction (evse, record) VALUES (1, '{not json')");
    db.close();
    const store = openStore(path);
    expect(() => store.forEvse(1).load()).toThrow(StoreError);
    expect(() => store.forEvse(1).load()).toThrow(path);
    store.close();
    const raw = new Database(path).query("SELECT record FROM open_transaction").get();
    expect(raw).toEqual({ record: "{not json" });
  });

  test("a file written by the interim api/transaction-store.ts (schema 0) opens with its record", () => {
    const path = tempPath();
    const old = new Database(path);
    old.run("CREATE TABLE open_transaction (evse INTEGER PRIMARY KEY, record TEXT NOT NULL)");
    old.query("INSERT INTO open_transaction VALUES (1, ?)").run(JSON.stringify(record("OLD", 5, 9)));
    old.close();
    const store = openStore(path);
    expect(store.forEvse(1).load()).toEqual(record("OLD", 5, 9));
    store.close();
    expect(new Database(path).query("PRAGMA user_version").get()).toEqual({ user_version: SCHEMA_VERSION });
  });
});

describe("session history", () => {
  test("a charging session becomes one row with energy, durations, reason, token, reservation and OCMF records", () => {
    const store = openStore(":memory:").forEvse(1);
    for (const e of chargingSession("S1", 0, 1000, 12500.4)) store.recordEvent(e);
    const page = store.listSessions();
    expect(v.is(SessionPageSchema, page)).toBe(true);
    expect(page.next_before).toBeNull();
    expect(page.sessions).toEqual([
      {
        id: 1,
        evse: 1,
        uuid: "S1",
        state: "finished",
        started_at: at(0),
        started_by: "EVConnected",
        id_tag: TOKEN,
        reservation_id: 7,
        transaction_started_at: at(2),
        transaction_finished_at: at(3602),
        start_meter_value: meter(1000, 2),
        stop_meter_value: meter(12500.4, 3602),
        energy_Wh: 11500.4,
        duration_s: 3610,
        transaction_duration_s: 3600,
        stop_reason: "EVDisconnected",
        stop_id_tag: null,
        start_signed_meter_value: ocmf("B"),
        signed_meter_value: ocmf("E"),
        finished_at: at(3610),
      },
    ]);
  });

  test("a session without transaction has no energy; events outside sessions (uuid \"\") are ignored", () => {
    const store = openStore(":memory:").forEvse(1);
    store.recordEvent({ uuid: "", event: "Enabled", timestamp: at(0), source: { enable_source: "LocalAPI", enable_state: "Enable", enable_priority: 0 } });
    store.recordEvent({ uuid: "S", event: "SessionStarted", timestamp: at(1), session_started: { reason: "Authorized", meter_value: meter(5), id_tag: TOKEN } });
    store.recordEvent({ uuid: "S", event: "SessionFinished", timestamp: at(31), session_finished: { meter_value: meter(5) } });
    const { sessions } = store.listSessions();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ state: "finished", started_by: "Authorized", id_tag: TOKEN, energy_Wh: null, duration_s: 30 });
  });

  test("a running transaction shows the latest reading saved in the record", () => {
    const store = openStore(":memory:").forEvse(1);
    for (const e of chargingSession("S1", 0, 1000, 0).slice(0, 5)) store.recordEvent(e);
    store.save(record("S1", 1000, 1420, 10));
    expect(store.getSession("S1")).toMatchObject({ state: "active", energy_Wh: 420, stop_meter_value: meter(1420, 10), finished_at: null });
    expect(store.getSession("nope")).toBeNull();
  });

  test("pages run newest first and chain through next_before", () => {
    const store = openStore(":memory:").forEvse(1);
    for (let i = 1; i <= 5; i++) for (const e of chargingSession(`S${i}`, i * 4000, 0, i * 100)) store.recordEvent(e);
    const first = store.listSessions({ limit: 2 });
    expect(first.sessions.map((s) => s.uuid)).toEqual(["S5", "S4"]);
    const second = store.listSessions({ limit: "2", before: String(first.next_before) });
    expect(second.sessions.map((s) => s.uuid)).toEqual(["S3", "S2"]);
    const last = store.listSessions({ limit: 2, before: second.next_before! });
    expect(last.sessions.map((s) => s.uuid)).toEqual(["S1"]);
    expect(last.next_before).toBeNull();
  });

  test("bad paging input is refused with the field named", () => {
    const store = openStore(":memory:").forEvse(1);
    expect(() => store.listSessions({ limit: 0 })).toThrow("limit: must be at least 1");
    expect(() => store.listSessions({ limit: "ten" })).toThrow("limit");
    expect(() => store.listSessions({ before: -3 })).toThrow("before");
  });

  test("PowerLoss for a session the history never saw (record from an older file) leaves an interrupted row", () => {
    const store = openStore(":memory:").forEvse(1);
    store.recordEvent({
      uuid: "OLD",
      event: "TransactionFinished",
      timestamp: at(50),
      transaction_finished: { meter_value: meter(900, 40), reason: "PowerLoss", id_tag: TOKEN },
    });
    expect(store.getSession("OLD")).toMatchObject({ state: "interrupted", stop_reason: "PowerLoss", id_tag: null, stop_id_tag: TOKEN, energy_Wh: null });
  });

  test("a session left open by a crash is marked interrupted at the next open", () => {
    const path = tempPath();
    const first = openStore(path);
    first.forEvse(1).recordEvent(chargingSession("S1", 0, 0, 0)[0]!);
    expect(first.forEvse(1).getSession("S1")?.state).toBe("active");
    first.close(); // committed writes: as the file is after a crash, minus the lock
    const second = openStore(path);
    expect(second.forEvse(1).getSession("S1")?.state).toBe("interrupted");
    second.close();
  });
});

describe("several EVSEs in one file", () => {
  test("records and histories of different EVSEs never mix", () => {
    const path = tempPath();
    const store = openStore(path);
    store.forEvse(1).save(record("A", 1, 2));
    store.forEvse(2).save(record("B", 3, 4));
    for (const e of chargingSession("SAME-UUID", 0, 0, 100)) store.forEvse(1).recordEvent(e);
    for (const e of chargingSession("SAME-UUID", 0, 0, 900)) store.forEvse(2).recordEvent(e);
    store.forEvse(1).clear();
    expect(store.forEvse(1).load()).toBeNull();
    expect(store.forEvse(2).load()?.uuid).toBe("B");
    // save() opens the session row of its record too ("A", 1 Wh so far).
    expect(store.forEvse(1).listSessions().sessions.map((s) => [s.uuid, s.energy_Wh])).toEqual([["SAME-UUID", 100], ["A", 1]]);
    expect(store.forEvse(2).listSessions().sessions.map((s) => [s.uuid, s.evse, s.energy_Wh])).toEqual([["SAME-UUID", 2, 900], ["B", 2, 1]]);
    expect(store.forEvse(3).listSessions().sessions).toEqual([]);
    expect(() => store.forEvse(0)).toThrow("evse index");
    store.close();
  });
});

describe("unusable storage: clear error, safe start, nothing destroyed", () => {
  test("a file that is not a database is refused with an error naming the path", () => {
    const path = tempPath();
    writeFileSync(path, "this is not sqlite ".repeat(300));
    let error: unknown;
    try {
      openStore(path);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).kind).toBe("corrupt");
    expect((error as StoreError).message).toContain(path);
  });

  test("damaged pages behind a valid header are found by the integrity check", () => {
    const path = tempPath();
    const store = openStore(path);
    for (let i = 0; i < 40; i++) for (const e of chargingSession(`S${i}`, i * 4000, 0, i)) store.forEvse(1).recordEvent(e);
    store.close();
    const bytes = readFileSync(path);
    expect(bytes.length).toBeGreaterThan(4096 * 6);
    bytes.fill(0x5a, 4096 * 2, 4096 * 6); // pages 3..6: tables and index, header intact
    writeFileSync(path, bytes);
    expect(() => openStore(path)).toThrow(expect.objectContaining({ kind: "corrupt", path }));
  });

  test("openStoreSafely moves a corrupt file and its WAL aside and starts fresh", () => {
    const path = tempPath();
    const junk = "garbage ".repeat(1000);
    writeFileSync(path, junk);
    writeFileSync(`${path}-wal`, "old wal");
    const logs: string[] = [];
    const store = openStoreSafely(path, (m) => logs.push(m), () => T0);
    const moved = `${path}.corrupt-2025-03-01T10-00-00-000Z`;
    expect(readFileSync(moved, "utf8")).toBe(junk);
    expect(readFileSync(`${moved}-wal`, "utf8")).toBe("old wal");
    expect(store.path).toBe(path);
    expect(store.problem).toContain(moved);
    expect(logs.join("\n")).toContain(moved);
    store.forEvse(1).save(record("NEW", 0, 1));
    store.close();
    expect(openStore(path).forEvse(1).load()?.uuid).toBe("NEW");
  });

  test("a missing directory is refused clearly; openStoreSafely runs in memory and creates nothing", () => {
    const dir = join(tempPath(), "..", "not-mounted");
    const path = join(dir, "evse.sqlite");
    expect(() => openStore(path)).toThrow(/does not exist/);
    try {
      openStore(path);
    } catch (err) {
      expect((err as StoreError).kind).toBe("missing_directory");
      expect((err as StoreError).message).toContain(path);
    }
    const logs: string[] = [];
    const store = openStoreSafely(path, (m) => logs.push(m));
    expect(store.path).toBe(":memory:");
    expect(store.problem).toContain("without persistence");
    expect(logs[0]).toContain("WARNING");
    store.forEvse(1).save(record("M", 0, 1)); // the kernel still works
    expect(store.forEvse(1).load()?.uuid).toBe("M");
    expect(existsSync(dir)).toBe(false);
  });

  test("a path that is a directory is refused as unwritable and left alone", () => {
    const dir = join(tempPath(), "..");
    expect(() => openStore(dir)).toThrow(expect.objectContaining({ kind: "unwritable", path: dir }));
    const store = openStoreSafely(dir, () => {});
    expect(store.path).toBe(":memory:");
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a file from a newer version is left untouched", () => {
    const path = tempPath();
    const db = new Database(path);
    db.run(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openStore(path)).toThrow("newer evse-manager");
    const store = openStoreSafely(path, () => {});
    expect(store.path).toBe(":memory:");
    expect(new Database(path).query("PRAGMA user_version").get()).toEqual({ user_version: SCHEMA_VERSION + 1 });
    expect(readdirSync(join(path, "..")).some((f) => f.includes("corrupt"))).toBe(false);
  });

  test(":memory: keeps nothing between opens", () => {
    const first: Store = openStore(":memory:");
    first.forEvse(1).save(record("A", 0, 1));
    for (const e of chargingSession("A", 0, 0, 1)) first.forEvse(1).recordEvent(e);
    const second = openStore(":memory:");
    expect(second.forEvse(1).load()).toBeNull();
    expect(second.forEvse(1).listSessions().sessions).toEqual([]);
  });
});

describe("per-EVSE key-value facts and the simulated car's plug state", () => {
  test("a value survives reopening the file, per EVSE, and delete removes it", () => {
    const path = tempPath();
    const first = openStore(path);
    first.forEvse(1).kv.set("k", { a: 1 });
    first.forEvse(2).kv.set("k", true);
    first.close();
    const second = openStore(path);
    expect(second.forEvse(1).kv.get("k")).toEqual({ a: 1 });
    expect(second.forEvse(2).kv.get("k")).toBe(true);
    expect(second.forEvse(3).kv.get("k")).toBeNull();
    second.forEvse(1).kv.delete("k");
    expect(second.forEvse(1).kv.get("k")).toBeNull();
    expect(second.forEvse(2).kv.get("k")).toBe(true);
    second.close();
  });

  test("a file of schema 1 (before the key-value table) is migrated and keeps its history", () => {
    const path = tempPath();
    const db = new Database(path);
    db.run("CREATE TABLE open_transaction (evse INTEGER PRIMARY KEY, record TEXT NOT NULL)");
    db.run("CREATE TABLE sessions (id INTEGER PRIMARY KEY AUTOINCREMENT, evse INTEGER NOT NULL, uuid TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'active', started_at TEXT, started_by TEXT, session_id_tag TEXT, reservation_id INTEGER, transaction_started_at TEXT, transaction_id_tag TEXT, start_meter_value TEXT, latest_meter_value TEXT, start_signed_meter_value TEXT, signed_meter_value TEXT, stop_reason TEXT, stop_id_tag TEXT, transaction_finished_at TEXT, finished_at TEXT, UNIQUE (evse, uuid))");
    db.run("INSERT INTO sessions (evse, uuid, state) VALUES (1, 'OLD', 'finished')");
    db.run("PRAGMA user_version = 1");
    db.close();
    const store = openStore(path);
    expect(store.forEvse(1).listSessions().sessions.map((s) => s.uuid)).toEqual(["OLD"]);
    store.forEvse(1).kv.set("x", 1);
    expect(store.forEvse(1).kv.get("x")).toBe(1);
    store.close();
    expect(new Database(path).query("PRAGMA user_version").get()).toEqual({ user_version: SCHEMA_VERSION });
  });

  test("the plug state written at each change is what the next process reads; forget clears it", () => {
    const path = tempPath();
    const first = openStore(path);
    const state = new SimPlugState(first.forEvse(1).kv);
    expect(state.wasPluggedIn()).toBe(false);
    state.observe(true);
    first.close(); // no shutdown step: the change itself was committed

    const second = openStore(path);
    expect(new SimPlugState(second.forEvse(1).kv).wasPluggedIn()).toBe(true);
    expect(new SimPlugState(second.forEvse(2).kv).wasPluggedIn()).toBe(false);
    const again = new SimPlugState(second.forEvse(1).kv);
    again.observe(false);
    expect(again.wasPluggedIn()).toBe(false);
    again.observe(true);
    again.forget();
    expect(again.wasPluggedIn()).toBe(false);
    second.close();
  });

  test("observing an unchanged plug state writes nothing", () => {
    const writes: unknown[] = [];
    const kv = { get: () => null, set: (_k: string, value: unknown) => void writes.push(value), delete: () => {} };
    const state = new SimPlugState(kv);
    for (const plugged of [false, false, true, true, true, false]) state.observe(plugged);
    expect(writes).toEqual([false, true, false]);
  });
});
