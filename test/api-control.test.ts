// GET …/status and PUT …/control (integration.md §1–2) end to end: the real program, its
// simulated board and car, over HTTP only.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { StatusSummarySchema } from "../api/status.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { parsePrometheus } from "./helpers/prometheus.ts";
import { until } from "./helpers/until.ts";

const E = "/api/v1/evses/1";
const PLUG_CHARGE = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000";

const servers: TestServer[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
async function start(...args: Parameters<typeof startServer>) {
  const s = await startServer({ exe: "binary", ...args[0] });
  servers.push(s);
  return s;
}

async function put(srv: TestServer, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await srv.fetch(path, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const status = async (srv: TestServer) => (await srv.get(`${E}/status`)).body;
const sim = async (srv: TestServer) => (await srv.get(`${E}/sim`)).body;

async function charging(srv: TestServer) {
  expect((await srv.post(`${E}/sim/car`, { script: PLUG_CHARGE })).status).toBe(202);
  return until("charging", () => status(srv), (s) => s.charging === true && s.current_A.L1 > 10);
}

describe("status and local control over HTTP", () => {
  test("status while charging; a limit lowers the duty, 0 waits for energy with the session kept, a new limit charges again", async () => {
    const srv = await start({ config: { disable_authentication: true, switch_3ph1ph_delay_s: 1 }, waitReady: true });
    const idle = await status(srv);
    expect(idle).toMatchObject({ state: "Idle", cp: "A", plugged: false, charging: false, enabled: true, offered_current_A: 0, session_uuid: null, id_tag: null, errors: [] });

    const s = await charging(srv);
    expect(v.safeParse(StatusSummarySchema, s).success).toBe(true);
    expect(s).toMatchObject({ state: "Charging", cp: "C", plugged: true, charging: true, enabled: true, offered_current_A: 32, max_current_A: 32, phases: 3, id_tag: "FREESERVICE", errors: [], local_limit_A: null, failsafe: false, site_share_A: null });
    expect(typeof s.session_uuid).toBe("string");
    expect(s.power_W).toBeGreaterThan(5000);
    expect(s.current_A.L1).toBeCloseTo(16, 0);
    expect(s.voltage_V.L1).toBeGreaterThan(200);
    expect(s.total_energy_Wh).toBeGreaterThanOrEqual(s.session_energy_Wh);
    const session = s.session_uuid;

    const lowered = await put(srv, `${E}/control`, { max_current_A: 10 });
    expect(lowered.status).toBe(200);
    expect(lowered.body).toMatchObject({ local_limit_A: 10, max_current_A: 10, session_uuid: session });
    // The PWM rate rule: a change of a running PWM within 5 s of the last one.
    await until("duty for 10 A", () => sim(srv), (b) => Math.abs(b.pwm_duty_percent - 16.67) < 0.01, 7000);

    const paused = await put(srv, `${E}/control`, { max_current_A: 0 });
    expect(paused.body).toMatchObject({ state: "WaitingForEnergy", offered_current_A: 0, max_current_A: 0, session_uuid: session });
    await until("PWM off", () => sim(srv), (b) => b.pwm_duty_percent === null);
    expect((await status(srv)).session_uuid).toBe(session);

    expect((await put(srv, `${E}/control`, { max_current_A: 16 })).status).toBe(200);
    const again = await until("charging again", () => status(srv), (b) => b.state === "Charging" && b.charging);
    expect(again.session_uuid).toBe(session);
    expect((await sim(srv)).pwm_duty_percent).toBeCloseTo(26.67, 2);

    // Phase switch while charging: SwitchPhases, the board switches after switch_3ph1ph_delay_s.
    const switched = await put(srv, `${E}/control`, { phases: 1 });
    expect(switched.status).toBe(200);
    expect(switched.body).toMatchObject({ phases: 1, state: "SwitchPhases" });
    await until("the board switched to one phase", () => sim(srv), (b) => b.phases === 1, 5000);
    await until("charging on one phase", () => status(srv), (b) => b.state === "Charging" && b.phases === 1);

    const disabled = await put(srv, `${E}/control`, { enabled: false });
    expect(disabled.status).toBe(200);
    await until("disabled", () => status(srv), (b) => b.state === "Disabled" && b.enabled === false && b.session_uuid === null);
    expect((await put(srv, `${E}/control`, { enabled: true })).body.enabled).toBe(true);
  }, 60_000);

  test("bad bodies are 400 naming the field and change nothing; other methods are 405", async () => {
    const srv = await start({ config: { disable_authentication: true }, waitReady: true });
    const three = await put(srv, `${E}/control`, { max_current_A: 3 });
    expect(three.status).toBe(400);
    expect(three.body.details[0].path).toBe("max_current_A");
    expect(three.body.message).toContain("max_current_A");
    const above = await put(srv, `${E}/control`, { max_current_A: 40 });
    expect(above.status).toBe(400);
    expect(above.body.details).toEqual([{ path: "max_current_A", message: "must be at most the hardware maximum of 32 A" }]);
    for (const body of [{ phases: 2 }, { enabled: "yes" }, { max_current_A: "16" }, { speed: 1 }, [1]]) {
      const r = await put(srv, `${E}/control`, body);
      expect(r.status).toBe(400);
      expect(r.body.error).toBe("invalid_body");
    }
    expect((await status(srv)).local_limit_A).toBeNull();
    expect((await srv.post(`${E}/control`, {})).status).toBe(405);
    const res = await srv.fetch(`${E}/status`, { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
    expect((await srv.get("/api/v1/evses/9/status")).status).toBe(404);
    // The empty body is a refresh only.
    expect((await put(srv, `${E}/control`, {})).status).toBe(200);
  });

  test("the token guards both routes", async () => {
    const srv = await start({ env: { EVSE_API_TOKEN: "secret-token" } });
    const anonymous = await fetch(`${srv.url}${E}/status`);
    expect(anonymous.status).toBe(401);
    const put401 = await fetch(`${srv.url}${E}/control`, { method: "PUT", body: "{}", headers: { "content-type": "application/json" } });
    expect(put401.status).toBe(401);
    expect((await srv.get(`${E}/status`)).status).toBe(200);
  });

  test("the local limit survives a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "evse-control-"));
    dirs.push(dir);
    const config = join(dir, "config.json");
    writeFileSync(config, JSON.stringify({ storage: { path: join(dir, "state.sqlite") } }));
    const first = await start({ config, waitReady: true });
    expect((await put(first, `${E}/control`, { max_current_A: 13 })).body.local_limit_A).toBe(13);
    expect(await first.stop()).toBe(0);
    const second = await start({ config, waitReady: true });
    expect(await status(second)).toMatchObject({ local_limit_A: 13, max_current_A: 13 });
    expect(second.output.some((l) => l.includes("local current limit 13 A restored"))).toBe(true);
    expect((await put(second, `${E}/control`, { max_current_A: null })).body.local_limit_A).toBeNull();
  }, 30_000);

  test("failsafe: an unrefreshed limit falls back after the timeout, logged and in /status and /metrics, until the next PUT", async () => {
    const srv = await start({ config: { disable_authentication: true, control: { failsafe_timeout_s: 1, failsafe_current_A: 8 } }, waitReady: true });
    await charging(srv);
    expect((await put(srv, `${E}/control`, { max_current_A: 20 })).body).toMatchObject({ failsafe: false, max_current_A: 20, failsafe_current_A: null });
    const fallen = await until("failsafe", () => status(srv), (b) => b.failsafe === true, 5000);
    expect(fallen).toMatchObject({ local_limit_A: 20, max_current_A: 8, failsafe_current_A: 8 });
    expect(srv.output.some((l) => l.includes("failsafe: local limit 20 A not refreshed"))).toBe(true);
    const metrics = parsePrometheus(await (await srv.fetch("/metrics")).text());
    const sample = (name: string) => metrics.get(name)?.samples.find((x) => x.labels.evse === "1")?.value;
    expect(sample("evse_control_failsafe_active")).toBe(1);
    expect(sample("evse_control_local_limit_amperes")).toBe(20);
    await until("duty for 8 A", () => sim(srv), (b) => Math.abs(b.pwm_duty_percent - 13.33) < 0.01, 7000);
    const refreshed = await put(srv, `${E}/control`, {});
    expect(refreshed.body).toMatchObject({ failsafe: false, max_current_A: 20, failsafe_current_A: null });
  }, 30_000);
});
