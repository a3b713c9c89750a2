// End to end through HTTP only: the real program (kernel, rt-worker, simulated board and car).
import { afterAll, describe, expect, test } from "bun:test";
import { startServer, type TestServer } from "./helpers/server.ts";
import { until } from "./helpers/until.ts";

const E = "/api/v1/evses/1";
const TOKEN_A = { id_token: { value: "RFID0001", type: "ISO14443" }, authorization_type: "RFID" };
const AUTH_A = { provided_token: TOKEN_A, validation_result: { authorization_status: "Accepted" } };
const PLUG_CHARGE = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000";

const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});
async function start(...args: Parameters<typeof startServer>) {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}

describe("the program over HTTP", () => {
  test("plug in, authorize, charge and unplug: one complete session", async () => {
    const srv = await start({ waitReady: true });
    const events = srv.events();
    const health = await srv.get("/healthz");
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("ok");

    const vars = await srv.get(`${E}/vars`);
    expect(Object.keys(vars.body).length).toBe(14);
    expect(vars.body.ready).toBe(true);

    expect(await srv.post(`${E}/sim/car`, { script: PLUG_CHARGE })).toEqual({ status: 202, body: { accepted: true } });
    await events.waitFor((m) => m.event === "session_event" && m.data.event === "AuthRequired");
    expect(await srv.post(`${E}/commands/authorize_response`, AUTH_A)).toEqual({ status: 200, body: { result: null } });
    await events.waitFor((m) => m.event === "session_event" && m.data.event === "ChargingStarted");
    const sim = await until("relays close in C", () => srv.get(`${E}/sim`), (r) => r.body.relays_closed === true && r.body.cp_state === "C");
    expect(sim.body.pwm_duty_percent).toBeCloseTo(53.33, 1);

    expect((await srv.post(`${E}/sim/car`, { script: "unplug", replace: true })).status).toBe(202);
    await events.waitFor((m) => m.event === "session_event" && m.data.event === "SessionFinished");

    const sessionEvents = events.sessionEvents();
    expect(sessionEvents.slice(sessionEvents.indexOf("SessionStarted"))).toEqual([
      "SessionStarted",
      "AuthRequired",
      "Authorized",
      "TransactionStarted",
      "PrepareCharging",
      "ChargingStarted",
      "StoppingCharging",
      "ChargingFinished",
      "TransactionFinished",
      "SessionFinished",
    ]);
    // Ids count from 1 and grow by one per publication.
    expect(events.messages.map((m) => m.id)).toEqual(events.messages.map((_, k) => k + 1));
    events.close();
  }, 30_000);

  test("two servers run side by side and stop with exit code 0 on SIGTERM", async () => {
    const [a, b] = await Promise.all([start(), start()]);
    expect(a.port).not.toBe(b.port);
    expect((await a.get("/healthz")).status).toBe(200);
    expect((await b.get("/healthz")).status).toBe(200);
    const t0 = Date.now();
    expect(await a.stop()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(await b.stop("SIGINT")).toBe(0);
  }, 30_000);

  test("with a token every /api/ route needs it, /healthz does not", async () => {
    const srv = await start({ env: { EVSE_API_TOKEN: "s3cret" } });
    expect((await fetch(`${srv.url}${E}/vars`)).status).toBe(401);
    expect((await srv.get(`${E}/vars`)).status).toBe(200);
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  }, 30_000);
});
