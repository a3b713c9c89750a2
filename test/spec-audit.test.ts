// Black-box audit of integration.md §1, §2, §6 and http-api.md against the real program: each
// test drives `bun main.ts` over HTTP (or a raw socket) and checks one sentence of the contract.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { currentForDutyPercent } from "../core/site-balancer.ts";
import { parsePrometheus } from "./helpers/prometheus.ts";
import { runCli, startServer, type TestServer } from "./helpers/server.ts";
import { until } from "./helpers/until.ts";

const E = "/api/v1/evses/1";
const PLUG_CHARGE = "sleep 0.2;iec_wait_pwr_ready;sleep 0.2;draw_power_regulated 16,3;sleep 36000";

const servers: TestServer[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
async function start(...args: Parameters<typeof startServer>) {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "evse-audit-"));
  dirs.push(d);
  return d;
}

async function put(srv: TestServer, body: string | undefined, headers: Record<string, string> = { "content-type": "application/json" }, evse = 1) {
  const res = await srv.fetch(`/api/v1/evses/${evse}/control`, { method: "PUT", headers, body });
  const text = await res.text();
  return { status: res.status, body: text === "" ? null : JSON.parse(text) };
}
const putJson = (srv: TestServer, body: unknown, evse = 1) => put(srv, JSON.stringify(body), undefined, evse);
const status = async (srv: TestServer, evse = 1) => (await srv.get(`/api/v1/evses/${evse}/status`)).body;
const duty = async (srv: TestServer, evse = 1) => (await srv.get(`/api/v1/evses/${evse}/sim`)).body.pwm_duty_percent as number | null;

/** One raw HTTP/1.1 exchange; resolves with the status line and the body. */
function rawRequest(port: number, request: string): Promise<{ statusLine: string; body: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let out = "";
    const done = () => {
      const head = out.indexOf("\r\n\r\n");
      resolve({ statusLine: out.split("\r\n")[0] ?? "", body: head < 0 ? "" : out.slice(head + 4) });
    };
    const timer = setTimeout(() => socket.destroy(), 3000);
    socket.on("data", (d) => (out += d.toString()));
    socket.on("close", () => {
      clearTimeout(timer);
      done();
    });
    socket.on("error", () => {});
    socket.write(request);
  });
}

const STATUS_KEYS = [
  "state", "cp", "plugged", "charging", "enabled", "offered_current_A", "max_current_A", "phases", "power_W", "session_energy_Wh",
  "total_energy_Wh", "current_A", "voltage_V", "session_uuid", "id_tag", "errors",
];

function expectStatusShape(s: any): void {
  for (const k of STATUS_KEYS) expect(s).toHaveProperty(k);
  expect(typeof s.state).toBe("string");
  expect(["A", "B", "C", "D", "E", "F"]).toContain(s.cp);
  for (const k of ["plugged", "charging", "enabled"]) expect(typeof s[k]).toBe("boolean");
  for (const k of ["offered_current_A", "max_current_A", "power_W", "session_energy_Wh", "total_energy_Wh"]) expect(typeof s[k]).toBe("number");
  expect([1, 3]).toContain(s.phases);
  for (const k of ["current_A", "voltage_V"]) {
    expect(Object.keys(s[k]).sort()).toEqual(["L1", "L2", "L3"]);
    for (const p of ["L1", "L2", "L3"]) expect(typeof s[k][p]).toBe("number");
  }
  expect(s.session_uuid === null || typeof s.session_uuid === "string").toBe(true);
  expect(s.id_tag === null || typeof s.id_tag === "string").toBe(true);
  expect(Array.isArray(s.errors)).toBe(true);
}

describe("integration.md §1–2: status and local control", () => {
  test("PUT …/control refuses a body that is not an object (an empty array too) with 400 and changes nothing", async () => {
    const srv = await start({ config: { disable_authentication: true }, waitReady: true });
    expect((await putJson(srv, { max_current_A: 10 })).status).toBe(200);
    for (const body of ["[]", "[1]", "null", "16", '"x"', "true"]) {
      const r = await put(srv, body);
      expect(r.status).toBe(400);
      expect(r.body.error).toBe("invalid_body");
      expect(Array.isArray(r.body.details)).toBe(true);
    }
    expect((await status(srv)).max_current_A).toBe(10);

    // The same quirk one level down: an array where the contract has an object is a 400 naming it.
    const validUntil = new Date(Date.now() + 3_600_000).toISOString();
    const nested = await srv.post(`${E}/energy/enforce_limits`, { uuid: "em", valid_until: validUntil, limits_root_side: [] });
    expect(nested.status).toBe(400);
    expect(nested.body.details).toEqual([{ path: "limits_root_side", message: "expected an object, got an array" }]);
    expect((await srv.get(`${E}/vars/enforced_limits`)).body).toBeNull();
    const ok = await srv.post(`${E}/energy/enforce_limits`, { uuid: "em", valid_until: validUntil, limits_root_side: { ac_max_current_A: 8 } });
    expect(ok.status).toBe(200);
    expect((await status(srv)).max_current_A).toBe(8);
  }, 20_000);

  test("each subset of the body is applied and answered 200 with the §1 summary; bad values are 400 naming the field", async () => {
    const srv = await start({ config: { disable_authentication: true }, waitReady: true });
    const idle = await status(srv);
    expectStatusShape(idle);
    expect(idle).toMatchObject({ state: "Idle", cp: "A", plugged: false, charging: false, enabled: true, offered_current_A: 0, max_current_A: 32, session_uuid: null, id_tag: null, errors: [] });

    // An empty body counts as {}: a refresh only.
    for (const [body, headers] of [["{}", undefined], ["", undefined], ["", {}], ["", { "content-type": "text/plain" }]] as const) {
      const r = await put(srv, body, headers ?? undefined);
      expect(r.status).toBe(200);
      expectStatusShape(r.body);
      expect(r.body.max_current_A).toBe(32);
    }
    for (const [body, path] of [
      [{ max_current_A: 5.9 }, "max_current_A"],
      [{ max_current_A: 0.1 }, "max_current_A"],
      [{ max_current_A: -6 }, "max_current_A"],
      [{ max_current_A: 32.5 }, "max_current_A"],
      [{ max_current_A: "16" }, "max_current_A"],
      [{ max_current_A: true }, "max_current_A"],
      [{ enabled: "false" }, "enabled"],
      [{ enabled: 0 }, "enabled"],
      [{ phases: 2 }, "phases"],
      [{ phases: "1" }, "phases"],
      [{ phases: 1, bogus: true }, "bogus"],
    ] as const) {
      const r = await putJson(srv, body);
      expect(r.status).toBe(400);
      expect(r.body.error).toBe("invalid_body");
      expect(r.body.details.map((d: any) => d.path)).toContain(path);
    }
    // Nothing of the refused bodies was applied (not even the valid `phases: 1` beside `bogus`).
    expect(await status(srv)).toMatchObject({ max_current_A: 32, phases: 3, enabled: true });

    expect((await putJson(srv, { max_current_A: 6 })).body.max_current_A).toBe(6);
    expect((await putJson(srv, { max_current_A: 32 })).body.max_current_A).toBe(32);
    expect((await putJson(srv, { max_current_A: 0 })).body.max_current_A).toBe(0);
    const phases = await putJson(srv, { phases: 1 });
    expect(phases.status).toBe(200);
    expect(phases.body.phases).toBe(1);
    const disabled = await putJson(srv, { enabled: false, max_current_A: 16, phases: 3 });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ enabled: false, state: "Disabled", max_current_A: 16, phases: 3 });
    expect((await putJson(srv, { enabled: true })).body).toMatchObject({ enabled: true, state: "Idle" });

    // The LocalAPI row goes through enable_disable: the session event names its source.
    const events = srv.events();
    const ev = await events.waitFor((m) => m.event === "session_event" && m.data.event === "Disabled");
    expect(ev.data.source?.enable_source ?? ev.data.enable_source ?? JSON.stringify(ev.data)).toContain("LocalAPI");
    events.close();
  }, 20_000);

  test("a limit of 0 set while idle: the next session waits for energy with no PWM, session kept; a limit of 6 offers 6 A", async () => {
    const srv = await start({ config: { disable_authentication: true }, waitReady: true });
    expect((await putJson(srv, { max_current_A: 0 })).status).toBe(200);
    expect((await srv.post(`${E}/sim/car`, { script: PLUG_CHARGE })).status).toBe(202);
    const waiting = await until("WaitingForEnergy", () => status(srv), (s) => s.state === "WaitingForEnergy");
    expect(waiting).toMatchObject({ plugged: true, charging: false, offered_current_A: 0, max_current_A: 0, cp: "B" });
    expect(typeof waiting.session_uuid).toBe("string");
    expect(waiting.id_tag).toBe("FREESERVICE");
    await Bun.sleep(500);
    expect(await duty(srv)).toBeNull();

    const six = await putJson(srv, { max_current_A: 6 });
    expect(six.status).toBe(200);
    const s = await until("charging at 6 A", () => status(srv), (x) => x.charging === true);
    expect(s).toMatchObject({ state: "Charging", offered_current_A: 6, max_current_A: 6, session_uuid: waiting.session_uuid });
    expect(await duty(srv)).toBeCloseTo(10, 2);
  }, 20_000);

  test("the local limit and enforce_limits combine by the minimum, both ways", async () => {
    const srv = await start({ config: { disable_authentication: true }, waitReady: true });
    const limits = (a: number) => ({ uuid: "em", valid_until: new Date(Date.now() + 3_600_000).toISOString(), limits_root_side: { ac_max_current_A: a } });
    expect((await srv.post(`${E}/energy/enforce_limits`, limits(10))).status).toBe(200);
    expect((await putJson(srv, { max_current_A: 16 })).body.max_current_A).toBe(10);
    expect((await srv.post(`${E}/energy/enforce_limits`, limits(20))).status).toBe(200);
    expect((await status(srv)).max_current_A).toBe(16);
    expect((await srv.get(`${E}/vars/limits`)).body.max_current).toBe(16);
  }, 20_000);

  test("failsafe_current_A 0: an unrefreshed limit pauses (WaitingForEnergy, session kept), visible in /status, /metrics and the log; any PUT ends it", async () => {
    const srv = await start({ config: { disable_authentication: true, control: { failsafe_timeout_s: 1, failsafe_current_A: 0 } }, waitReady: true });
    expect((await srv.post(`${E}/sim/car`, { script: PLUG_CHARGE })).status).toBe(202);
    expect((await putJson(srv, { max_current_A: 16 })).status).toBe(200);
    const charging = await until("charging", () => status(srv), (s) => s.charging === true);
    const fallen = await until("failsafe", () => status(srv), (s) => s.failsafe === true, 5000);
    expect(fallen).toMatchObject({ state: "WaitingForEnergy", max_current_A: 0, offered_current_A: 0, session_uuid: charging.session_uuid });
    await until("PWM off", () => duty(srv), (d) => d === null, 2000);
    const metrics = parsePrometheus(await (await srv.fetch("/metrics")).text());
    expect(metrics.get("evse_control_failsafe_active")?.samples.find((x) => x.labels.evse === "1")?.value).toBe(1);
    expect(srv.output.some((l) => l.includes("failsafe"))).toBe(true);

    const refreshed = await putJson(srv, { enabled: true });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.failsafe).toBe(false);
    expect(refreshed.body.max_current_A).toBe(16);
    await until("charging again", () => status(srv), (s) => s.charging === true && s.session_uuid === charging.session_uuid);
  }, 30_000);

  test("a local limit of 0 survives a restart: the charger comes back paused", async () => {
    const dir = tempDir();
    const config = join(dir, "config.json");
    writeFileSync(config, JSON.stringify({ disable_authentication: true, storage: { path: join(dir, "state.sqlite") } }));
    const first = await start({ config, waitReady: true });
    expect((await putJson(first, { max_current_A: 0 })).status).toBe(200);
    expect(await first.stop()).toBe(0);
    const second = await start({ config, waitReady: true });
    expect((await status(second)).max_current_A).toBe(0);
    expect((await second.post(`${E}/sim/car`, { script: PLUG_CHARGE })).status).toBe(202);
    await until("WaitingForEnergy after restart", () => status(second), (s) => s.state === "WaitingForEnergy" && s.offered_current_A === 0);
  }, 30_000);

  test("405 with Allow on other methods, 404 for an unknown EVSE, 401 before anything else with a token", async () => {
    const srv = await start({ env: { EVSE_API_TOKEN: "audit-token" } });
    for (const m of ["GET", "POST", "DELETE", "PATCH"]) {
      const r = await srv.fetch(`${E}/control`, { method: m });
      expect(r.status).toBe(405);
      expect(r.headers.get("allow")).toContain("PUT");
      expect(((await r.json()) as { error: unknown }).error).toBeString();
    }
    for (const m of ["PUT", "POST", "DELETE"]) expect((await srv.fetch(`${E}/status`, { method: m })).status).toBe(405);
    for (const i of ["0", "2", "x", "-1"]) {
      expect((await srv.get(`/api/v1/evses/${i}/status`)).status).toBe(404);
      expect((await srv.fetch(`/api/v1/evses/${i}/control`, { method: "PUT", body: "{}" })).status).toBe(404);
    }
    const anon = (path: string, init?: RequestInit) => fetch(srv.url + path, init);
    expect((await anon(`${E}/status`)).status).toBe(401);
    expect((await anon(`/api/v1/evses/9/status`)).status).toBe(401);
    expect((await anon(`${E}/control`, { method: "PUT", body: "[", headers: { origin: "http://evil.example" } })).status).toBe(401);
    expect((await anon(`${E}/control`, { method: "PUT", body: "{}", headers: { authorization: "Bearer wrong" } })).status).toBe(401);
  }, 20_000);
});

describe("http-api.md: request target and Host", () => {
  test("a valid Host that Bun normalizes (default port, IPv6, short IPv4) is served by the request line's path", async () => {
    const srv = await start({ config: { disable_authentication: true } });
    for (const host of ["localhost:80", "127.0.0.1:80", "[::1]", "[::1]:80", "[0:0::1]:8080", "127.1", `LOCALHOST:${srv.port}`]) {
      const r = await rawRequest(srv.port, `GET ${E}/status?x=1 HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(`${host} ${r.statusLine}`).toBe(`${host} HTTP/1.1 200 OK`);
      expect(JSON.parse(r.body).state).toBe("Idle");
    }
    for (const host of ["a b", "x/api", "user@x", "x?y", "x#y", "x:99999", ""]) {
      const r = await rawRequest(srv.port, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(`${host} ${r.statusLine}`).toBe(`${host} HTTP/1.1 400 Bad Request`);
      expect(JSON.parse(r.body).error).toBeString();
    }
  }, 20_000);

  test("PUT …/control: 415 for a non-JSON content type, 413 over 64 KiB, 403 cross-site; none changes the limit", async () => {
    const srv = await start({ config: { disable_authentication: true } });
    expect((await put(srv, '{"max_current_A":10}', { "content-type": "text/plain" })).status).toBe(415);
    expect((await put(srv, '{"max_current_A":10}', { "content-type": "application/x-www-form-urlencoded" })).status).toBe(415);
    expect((await put(srv, JSON.stringify({ max_current_A: 10, pad: "x".repeat(70_000) }))).status).toBe(413);
    expect((await put(srv, '{"max_current_A":10}', { "content-type": "application/json", "sec-fetch-site": "cross-site" })).status).toBe(403);
    const foreign = await put(srv, '{"max_current_A":10}', { "content-type": "application/json", origin: "http://evil.example" });
    expect(foreign).toMatchObject({ status: 403, body: { error: "cross_origin" } });
    expect((await put(srv, '{"max_current_A":10', undefined)).status).toBe(400);
    expect((await status(srv)).max_current_A).toBe(32);
    expect((await put(srv, '{"max_current_A":10}', { "content-type": "application/json; charset=utf-8", origin: srv.url })).status).toBe(200);
  }, 20_000);
});

describe("config: the new options", () => {
  const refused = async (doc: unknown, key: string) => {
    const dir = tempDir();
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify(doc));
    const r = await runCli(["--port", "0", "--config", file]);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain(key);
  };

  test("bad control.* and site.* values exit 2 naming the key", async () => {
    await refused({ control: { failsafe_current_A: 3 } }, "control.failsafe_current_A");
    await refused({ control: { failsafe_timeout_s: -1 } }, "control.failsafe_timeout_s");
    await refused({ control: { enable_priority: "high" } }, "control.enable_priority");
    await refused({ control: { heartbeat: 1 } }, "control.heartbeat");
    await refused({ site: { max_current_A: 5 } }, "site.max_current_A");
    await refused({ site: { meter: "shelly" } }, "site.meter");
  }, 30_000);

  test("site.meter: none is accepted (no site meter: the EVSEs' own offers are the load)", async () => {
    const srv = await start({ config: { site: { max_current_A: 16, meter: "none" }, evses: [{}, {}] } });
    expect((await status(srv, 2)).site_share_A).toBe(0);
  }, 20_000);
});

describe("integration.md §6: site balancing", () => {
  test("3 EVSEs on 20 A: 6.6 A each (split evenly, rounded down to 0.1 A); sum of offers never above 20 A", async () => {
    const srv = await start({ config: { site: { max_current_A: 20 }, evses: [1, 2, 3].map(() => ({ disable_authentication: true })) }, waitReady: true });
    const violations: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const offers = await Promise.all([1, 2, 3].map(async (i) => currentForDutyPercent(await duty(srv, i))));
        const sum = offers.reduce((a, b) => a + b, 0);
        if (sum > 20 + 1e-9) violations.push(offers.join(","));
        if (offers.some((o) => o > 0 && o < 6)) violations.push(`below 6: ${offers.join(",")}`);
        await Bun.sleep(20);
      }
    })();
    for (const i of [1, 2, 3]) {
      expect((await srv.post(`/api/v1/evses/${i}/sim/car`, { script: PLUG_CHARGE })).status).toBe(202);
      await Bun.sleep(300);
    }
    const all = await until(
      "all three charging at 6.6 A",
      () => Promise.all([1, 2, 3].map((i) => status(srv, i))),
      (ss) => ss.every((s) => s.state === "Charging" && s.offered_current_A === 6.6),
      20_000,
    );
    for (const s of all) expect(s.max_current_A).toBe(6.6);
    watching = false;
    await watcher;
    expect(violations).toEqual([]);
  }, 40_000);

  test("4 EVSEs on 13 A: the last to come wait in WaitingForEnergy and resume first-come when current frees up", async () => {
    const srv = await start({ config: { site: { max_current_A: 13 }, evses: [1, 2, 3, 4].map(() => ({ disable_authentication: true })) }, waitReady: true });
    for (const i of [1, 2, 3, 4]) {
      expect((await srv.post(`/api/v1/evses/${i}/sim/car`, { script: PLUG_CHARGE })).status).toBe(202);
      await until(`EVSE ${i} has a session`, () => status(srv, i), (s) => s.session_uuid !== null);
    }
    const states = () => Promise.all([1, 2, 3, 4].map(async (i) => (await status(srv, i)).state as string));
    await until("1 and 2 charge, 3 and 4 wait", states, (s) => s.join() === "Charging,Charging,WaitingForEnergy,WaitingForEnergy", 15_000);
    const waiting = await status(srv, 3);
    expect(waiting).toMatchObject({ offered_current_A: 0, max_current_A: 0, plugged: true });
    expect(typeof waiting.session_uuid).toBe("string");

    expect((await srv.post(`/api/v1/evses/1/sim/car`, { script: "unplug", replace: true })).status).toBe(202);
    await until("3 resumes before 4", states, (s) => s.join() === "Idle,Charging,Charging,WaitingForEnergy", 15_000);
    expect((await status(srv, 3)).session_uuid).toBe(waiting.session_uuid);
  }, 60_000);
});
