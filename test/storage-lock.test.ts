// One process per storage file (http-api.md; issue 12 item 3) and storage paths that are not regular
// files: real programs (bun main.ts) on one file, the first charging a simulated car.
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lockFileFor, openStore, openStoreSafely, StoreError } from "../store/index.ts";
import { runCli, startServer, type TestServer } from "./helpers/server.ts";

const E = "/api/v1/evses/1";
const TOKEN_A = { id_token: { value: "RFID0001", type: "ISO14443" }, authorization_type: "RFID" };
const AUTH_A = { provided_token: TOKEN_A, validation_result: { authorization_status: "Accepted" } };
const PLUG_CHARGE = "iec_wait_pwr_ready;draw_power_regulated 16,3;sleep 36000";

const servers: TestServer[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop("SIGKILL")));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "evse-lock-"));
  dirs.push(dir);
  return dir;
}

/** A config file of its own (startServer's temp dir goes away with the server). */
function configFile(dir: string, storagePath: string): string {
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify({ storage: { path: storagePath } }));
  return file;
}

/** Name, size, mtime and content hash of every file in the directory. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const st = statSync(path);
    out[name] = `${st.size} ${st.mtimeMs} ${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
  }
  return out;
}

/** The sessions table as a reader of the file sees it (WAL: committed rows of the live process). */
function sessionRows(path: string): { uuid: string; state: string }[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.query<{ uuid: string; state: string }, []>("SELECT uuid, state FROM sessions ORDER BY id").all();
  } finally {
    db.close();
  }
}

describe("one process per storage file", () => {
  test("a second program on the file of a charging one exits 2 naming the file and the pid; the first charges on", async () => {
    const dir = tempDir();
    const path = join(dir, "state.sqlite");
    const config = configFile(dir, path);
    const first = await startServer({ config, waitReady: true });
    servers.push(first);
    const events = first.events();
    expect((await first.post(`${E}/sim/car`, { script: PLUG_CHARGE })).status).toBe(202);
    await events.waitFor((m) => m.event === "session_event" && m.data.event === "AuthRequired");
    expect((await first.post(`${E}/commands/authorize_response`, AUTH_A)).status).toBe(200);
    const started = await events.waitFor((m) => m.event === "session_event" && m.data.event === "TransactionStarted");
    await events.waitFor((m) => m.event === "powermeter" && m.data.energy_Wh_import.total > 2, 10_000);
    const rowsBefore = sessionRows(path);
    expect(rowsBefore).toEqual([{ uuid: started.data.uuid, state: "active" }]);

    const second = await runCli(["--port", "0", "--config", config]);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(JSON.stringify(path));
    expect(second.stderr).toContain(`pid ${first.proc.pid}`);
    expect(second.stderr).toContain(JSON.stringify(lockFileFor(path)));
    expect(second.stdout).not.toContain("listening on");

    // The first still charges its transaction; the file's rows are as they were.
    const energyNow = (await first.get(`${E}/vars/powermeter`)).body.energy_Wh_import.total as number;
    await events.waitFor((m) => m.event === "powermeter" && m.data.energy_Wh_import.total > energyNow + 1, 10_000);
    expect(events.sessionEvents()).not.toContain("TransactionFinished");
    expect(sessionRows(path)).toEqual(rowsBefore);
    expect((await first.get(`${E}/sessions`)).body.sessions[0]).toMatchObject({ uuid: started.data.uuid, state: "active" });
    events.close();

    // kill -9 frees the lock: the next program starts, finds the cut-off session and serves.
    expect(await first.stop("SIGKILL")).not.toBe(0);
    const third = await startServer({ config });
    servers.push(third);
    const health = await third.get("/healthz");
    expect(health.body.storage).toEqual({ persistent: true, problem: null });
    // The kernel finishes the cut-off transaction during its boot, a moment after /healthz answers.
    let session: Record<string, unknown> = {};
    for (let n = 0; n < 100 && session.stop_reason !== "PowerLoss"; n++, await Bun.sleep(100)) [session] = (await third.get(`${E}/sessions`)).body.sessions;
    expect(session).toMatchObject({ uuid: started.data.uuid, state: "interrupted", stop_reason: "PowerLoss" });
  }, 60_000);

  test("the refused program changes no byte, size or mtime of any file beside the store", async () => {
    const dir = tempDir();
    const path = join(dir, "state.sqlite");
    const config = configFile(dir, path);
    const first = await startServer({ config });
    servers.push(first);
    // Boot writes done (on a loaded machine boot takes a while): the files stop changing once the
    // kernel is ready, and an idle program writes nothing after that.
    for (let n = 0; n < 100 && (await first.get(`${E}/vars/ready`)).body !== true; n++) await Bun.sleep(100);
    let before = snapshot(dir);
    for (let n = 0; n < 20; n++) {
      await Bun.sleep(300);
      const again = snapshot(dir);
      if (JSON.stringify(again) === JSON.stringify(before)) break;
      before = again;
    }
    expect(Object.keys(before)).toContain("state.sqlite.lock");
    const second = await runCli(["--port", "0", "--config", config]);
    expect(second.code).toBe(2);
    expect(snapshot(dir)).toEqual(before);
    expect(await first.stop()).toBe(0);
  }, 30_000);

  test("in one process: a second open of the same file, under any name, is refused until the first is closed", () => {
    const dir = tempDir();
    const path = join(dir, "state.sqlite");
    const store = openStore(path);
    symlinkSync(path, join(dir, "alias.sqlite"));
    for (const name of [path, join(dir, "alias.sqlite")]) {
      expect(() => openStore(name)).toThrow(StoreError);
      expect(() => openStoreSafely(name, () => {})).toThrow(/in use by another evse-manager process \(pid \d+\)/);
    }
    store.close();
    openStore(path).close();
  });
});

describe("a storage path that is not a regular file", () => {
  test("a FIFO: runs on memory with a warning, creates nothing beside it and never blocks on it", () => {
    const dir = tempDir();
    const fifo = join(dir, "pipe");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const warnings: string[] = [];
    const store = openStoreSafely(fifo, (m) => warnings.push(m));
    expect(store.path).toBe(":memory:");
    expect(store.problem).toContain("not a regular file");
    expect(warnings.join("\n")).toContain(JSON.stringify(fifo));
    store.close();
    expect(readdirSync(dir)).toEqual(["pipe"]);
    expect(statSync(fifo).isFIFO()).toBe(true);
  });

  test("a character device (/dev/null) is refused before SQLite or the lock touches it", () => {
    const before = new Set(readdirSync("/dev"));
    expect(() => openStore("/dev/null")).toThrow(/not a regular file/);
    const store = openStoreSafely("/dev/null", () => {});
    expect(store.problem).toContain("not a regular file");
    store.close();
    expect(readdirSync("/dev").filter((f) => !before.has(f) && f.startsWith("null"))).toEqual([]);
  });

  test("the program on a FIFO path serves, and /healthz says nothing persists", async () => {
    const dir = tempDir();
    const fifo = join(dir, "pipe");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const srv = await startServer({ config: { storage: { path: fifo } } });
    servers.push(srv);
    const health = await srv.get("/healthz");
    expect(health.status).toBe(200);
    expect(health.body.storage.persistent).toBe(false);
    expect(health.body.storage.problem).toContain("not a regular file");
    expect(readdirSync(dir)).toEqual(["pipe"]);
  }, 30_000);
});
