// The simulated meter's registers survive a restart (issue 12): the real program on one storage
// file, a session, a restart, the next session. Signed readings never go back, whether or not the
// car was unplugged in between; with the car kept plugged in, the unsigned reading does not either.
import { decomposeValue } from "@road-labs/ocmf";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, SimMeterState, snapshotOf } from "../store/index.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

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

function setup(extra: Record<string, unknown> = {}): { config: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "evse-meter-"));
  dirs.push(dir);
  const path = join(dir, "state.sqlite");
  const config = join(dir, "config.json");
  writeFileSync(config, JSON.stringify({ storage: { path }, ...extra }));
  return { config, path };
}

/** The OCMF reading value (kWh) of a signed record. */
function rv(record: { signed_meter_data: string } | null | undefined): number {
  const payload = JSON.parse(decomposeValue(record!.signed_meter_data).payloadData) as { RD: { RV: number }[] };
  return payload.RD[0]!.RV;
}

/** Unplugs and waits for the end of the session (the signed records are in the history then). */
async function unplug(srv: TestServer): Promise<void> {
  const events = srv.events({ lastEventId: null });
  expect((await srv.post(`${E}/sim/car`, { script: "unplug", replace: true })).status).toBe(202);
  await events.waitFor((m) => m.event === "session_event" && m.data.event === "SessionFinished", 10_000);
  events.close();
}

async function start(config: string): Promise<TestServer> {
  const srv = await startServer({ config, waitReady: true });
  servers.push(srv);
  return srv;
}

/** Plugs in (unless the car is already), authorizes and charges until the meter moved `wh`. */
async function charge(srv: TestServer, wh: number, plugIn = true): Promise<void> {
  const events = srv.events();
  if (plugIn) expect((await srv.post(`${E}/sim/car`, { script: PLUG_CHARGE })).status).toBe(202);
  await events.waitFor((m) => m.event === "session_event" && m.data.event === "AuthRequired", 10_000);
  expect((await srv.post(`${E}/commands/authorize_response`, AUTH_A)).status).toBe(200);
  if (!plugIn) expect((await srv.post(`${E}/sim/car`, { script: "iec_wait_pwr_ready;draw_power_regulated 16,3;sleep 36000" })).status).toBe(202);
  const started = await events.waitFor((m) => m.event === "session_event" && m.data.event === "TransactionStarted", 10_000);
  const from = started.data.transaction_started.meter_value.energy_Wh_import.total as number;
  await events.waitFor((m) => m.event === "powermeter" && m.data.energy_Wh_import.total > from + wh, 15_000);
  events.close();
}

describe("meter register continuity across restarts", () => {
  test("unplugged between sessions: the next session's signed start is at least the previous signed stop", async () => {
    const { config } = setup();
    const first = await start(config);
    await charge(first, 3);
    await unplug(first);
    const [s1] = (await first.get(`${E}/sessions`)).body.sessions;
    const stop1 = rv(s1.signed_meter_value);
    expect(stop1).toBeGreaterThan(rv(s1.start_signed_meter_value));
    expect(await first.stop()).toBe(0);

    const second = await start(config);
    await charge(second, 1);
    await unplug(second);
    const [s2] = (await second.get(`${E}/sessions`)).body.sessions;
    expect(s2.uuid).not.toBe(s1.uuid);
    expect(rv(s2.start_signed_meter_value)).toBeGreaterThanOrEqual(stop1);
    // The board's own reading restarts at plug-in as simulation.md §2.7 says; the register does not.
    expect(s2.start_meter_value.energy_Wh_import.total).toBeLessThan(stop1 * 1000);
  }, 60_000);

  test("kept plugged in across a kill -9: the next session's meter start is at least the previous stop, signed or not", async () => {
    const { config } = setup({ sim: { keep_plug_state_across_restart: true } });
    const first = await start(config);
    await charge(first, 12);
    const before = (await first.get(`${E}/vars/powermeter`)).body.energy_Wh_import.total as number;
    expect(await first.stop("SIGKILL")).not.toBe(0);

    const second = await start(config);
    // The car is still plugged in: a new session has begun beside the one the kill cut off.
    const cut = (await second.get(`${E}/sessions`)).body.sessions.find((s: { state: string }) => s.state === "interrupted");
    expect(cut).toMatchObject({ state: "interrupted", stop_reason: "PowerLoss" });
    const now = (await second.get(`${E}/vars/powermeter`)).body.energy_Wh_import.total as number;
    expect(now).toBeGreaterThan(0); // the board did not start from 0 (at most EVERY_WH below `before`)
    expect(now).toBeGreaterThanOrEqual(cut.stop_meter_value.energy_Wh_import.total);
    expect(before - now).toBeLessThan(10 + 1);

    await charge(second, 1, false);
    await unplug(second);
    const [s2, s1] = (await second.get(`${E}/sessions`)).body.sessions;
    expect(s1.uuid).toBe(cut.uuid);
    expect(s2.start_meter_value.energy_Wh_import.total).toBeGreaterThanOrEqual(s1.stop_meter_value.energy_Wh_import.total);
    expect(rv(s2.start_signed_meter_value) * 1000).toBeGreaterThanOrEqual(s1.stop_meter_value.energy_Wh_import.total);
  }, 60_000);
});

describe("SimMeterState", () => {
  test("writes on a register move of 10 Wh, not on every reading; save writes at once; a bad value reads as nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "evse-meter-"));
    dirs.push(dir);
    const store = openStore(join(dir, "s.sqlite"));
    const kv = store.forEvse(1).kv;
    const state = new SimMeterState(kv);
    expect(state.restored()).toBeNull();
    const reading = (total: number) => ({ timestamp: "2025-03-01T10:00:00Z", energy_Wh_import: { total, L1: total / 3, L2: total / 3, L3: total / 3 } });
    state.observe(snapshotOf({ wh: 100, boardWh: 0 }, reading(0)));
    state.observe(snapshotOf({ wh: 105, boardWh: 5 }, reading(5)));
    expect((kv.get("sim.meter") as { register_Wh: number }).register_Wh).toBe(100);
    state.observe(snapshotOf({ wh: 110, boardWh: 10 }, reading(10)));
    expect((kv.get("sim.meter") as { register_Wh: number }).register_Wh).toBe(110);
    state.save(snapshotOf({ wh: 111, boardWh: 11 }, reading(11)));
    expect(new SimMeterState(kv).restored()).toMatchObject({ register_Wh: 111, board_Wh: 11 });
    kv.set("sim.meter", { register_Wh: 1, board_Wh: 5, import_Wh: [5, 0, 0], export_Wh: [0, 0, 0] });
    expect(new SimMeterState(kv).restored()).toBeNull();
    kv.set("sim.meter", "garbage");
    expect(new SimMeterState(kv).restored()).toBeNull();
    store.close();
  });
});
