// GET /api/v1/evses/{i}/sessions and the storage field of /healthz: in process against a real
// (in-memory) store, then over HTTP against the real program with the simulated board and meter.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import type { SessionEvent } from "../core/types/index.ts";
import { verifyOcmfRecord } from "../sim/meter/index.ts";
import { VerifiedSessionPageSchema as SessionPageSchema } from "../api/routes/sessions.ts";
import { openStore } from "../store/index.ts";
import { harness } from "./api-fakes.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

const E = "/api/v1/evses/1";
const TOKEN_A = { id_token: { value: "RFID0001", type: "ISO14443" }, authorization_type: "RFID" } as const;
const AUTH_A = { provided_token: TOKEN_A, validation_result: { authorization_status: "Accepted" } };
const PLUG_CHARGE = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000";

const T0 = Date.parse("2025-03-01T10:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const meter = (wh: number, s: number) => ({ timestamp: at(s), energy_Wh_import: { total: wh } });

function session(uuid: string, t: number, startWh: number, stopWh: number): SessionEvent[] {
  return [
    { uuid, event: "SessionStarted", timestamp: at(t), session_started: { reason: "EVConnected", meter_value: meter(startWh, t) } },
    { uuid, event: "TransactionStarted", timestamp: at(t + 2), transaction_started: { id_tag: TOKEN_A, meter_value: meter(startWh, t + 2) } },
    { uuid, event: "TransactionFinished", timestamp: at(t + 62), transaction_finished: { meter_value: meter(stopWh, t + 62), reason: "EVDisconnected" } },
    { uuid, event: "SessionFinished", timestamp: at(t + 63), session_finished: { meter_value: meter(stopWh, t + 63) } },
  ] as SessionEvent[];
}

/** The API harness with a real store's history behind EVSE 1: sessions A (oldest), B, C. */
function withHistory(options: Parameters<typeof harness>[0] = {}) {
  const h = harness(options);
  const store = openStore(":memory:").forEvse(1);
  for (const [k, uuid] of ["A", "B", "C"].entries()) for (const e of session(uuid, k * 100, 1000 * k, 1000 * k + 250)) store.recordEvent(e);
  h.evse.sessions = store;
  return h;
}

describe("GET …/sessions (in process)", () => {
  test("ocmf_verified is false for records that do not verify against the published key", async () => {
    const { SimOcmfMeter } = await import("../sim/meter/index.ts");
    const h = harness();
    const store = openStore(":memory:").forEvse(1);
    const forged = { signed_meter_data: 'OCMF|{"FV":"1.0"}|{"SA":"ECDSA-secp256r1-SHA256","SD":"3045"}', signing_method: "ECDSA-secp256r1-SHA256", encoding_method: "OCMF" };
    const [started, tx, finished, done] = session("F", 0, 0, 100);
    (tx as { transaction_started: Record<string, unknown> }).transaction_started.signed_meter_value = forged;
    (finished as { transaction_finished: Record<string, unknown> }).transaction_finished.signed_meter_value = forged;
    for (const e of [started!, tx!, finished!, done!]) store.recordEvent(e);
    h.evse.sessions = store;
    h.pubs.publish("powermeter_public_key_ocmf", (await SimOcmfMeter.create({ getLatest: () => null })).publicKey());
    const body = (await (await h.app.request(`${E}/sessions`)).json()) as { sessions: { ocmf_verified: unknown }[] };
    expect(body.sessions[0]!.ocmf_verified).toEqual({ start: false, stop: false });
  });

  test("answers a page newest first with energy, durations and reason, valid against SessionPageSchema", async () => {
    const h = withHistory();
    const res = await h.app.request(`${E}/sessions`);
    expect(res.status).toBe(200);
    const page = v.parse(SessionPageSchema, await res.json());
    expect(page.sessions.map((s) => s.uuid)).toEqual(["C", "B", "A"]);
    expect(page.next_before).toBeNull();
    expect(page.sessions[0]).toMatchObject({ state: "finished", energy_Wh: 250, duration_s: 63, transaction_duration_s: 60, stop_reason: "EVDisconnected", id_tag: TOKEN_A });
    // No OCMF records and no published key here: nothing to verify, said as null rather than false.
    expect(page.sessions[0]!.ocmf_verified).toEqual({ start: null, stop: null });
  });

  test("limit and before page through the history", async () => {
    const h = withHistory();
    const first = (await (await h.app.request(`${E}/sessions?limit=2`)).json()) as { sessions: { uuid: string }[]; next_before: number };
    expect(first.sessions.map((s) => s.uuid)).toEqual(["C", "B"]);
    expect(typeof first.next_before).toBe("number");
    const second = (await (await h.app.request(`${E}/sessions?limit=2&before=${first.next_before}`)).json()) as { sessions: { uuid: string }[]; next_before: unknown };
    expect(second).toMatchObject({ sessions: [{ uuid: "A" }], next_before: null });
  });

  test("a bad limit, a bad before or an unknown parameter is a 400 naming it", async () => {
    const h = withHistory();
    for (const [query, field] of [
      ["limit=0", "limit"],
      ["limit=abc", "limit"],
      ["limit=100000", "limit"],
      ["before=-3", "before"],
      ["before=1.5", "before"],
      ["page=2", "page"],
    ] as const) {
      const res = await h.app.request(`${E}/sessions?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      const body = (await res.json()) as { error: string; message: string; details: { path: string }[] };
      expect(body.error).toBe("invalid_query");
      expect(body.message).toContain(field);
      expect(body.details.map((d) => d.path)).toContain(field);
    }
  });

  test("needs the token like every /api/ route, and an unknown EVSE is a 404", async () => {
    const h = withHistory({ token: "s3cret" });
    expect((await h.app.request(`${E}/sessions`)).status).toBe(401);
    expect((await h.app.request(`${E}/sessions`, { headers: { authorization: "Bearer s3cret" } })).status).toBe(200);
    expect((await h.app.request(`/api/v1/evses/9/sessions`, { headers: { authorization: "Bearer s3cret" } })).status).toBe(404);
    expect((await h.app.request(`${E}/sessions`, { method: "POST", headers: { authorization: "Bearer s3cret" } })).status).toBe(405);
  });

  test("openapi.json documents the route with the SessionPage schema and its query parameters", async () => {
    const h = harness();
    const doc = (await (await h.app.request("/openapi.json")).json()) as any;
    const get = doc.paths["/api/v1/evses/{i}/sessions"].get;
    expect(get.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/SessionPage" });
    expect(get.parameters.map((p: { name: string }) => p.name)).toEqual(["i", "limit", "before"]);
    expect(get.security).toEqual([{ bearer: [] }]);
    expect(doc.components.schemas.SessionPage.required).toEqual(["sessions", "next_before"]);
    expect(doc.components.schemas.SessionPage.properties.sessions.items.additionalProperties).toBe(false);
  });

  test("/healthz shows a storage problem and still answers 200", async () => {
    const h = harness();
    h.ctx.storage = { persistent: false, problem: 'storage "/x/y.sqlite": directory "/x" does not exist' };
    const res = await h.app.request("/healthz");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { storage: unknown }).storage).toEqual(h.ctx.storage);
  });
});

const servers: TestServer[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("session history over HTTP (the real program)", () => {
  test("a charged session is listed with energy > 0 and both OCMF records, which verify with the published key", async () => {
    const srv = await startServer({ waitReady: true, env: { EVSE_API_TOKEN: "s3cret" } });
    servers.push(srv);
    const events = srv.events();
    expect((await srv.post(`${E}/sim/car`, { script: PLUG_CHARGE })).status).toBe(202);
    await events.waitFor((m) => m.event === "session_event" && m.data.event === "AuthRequired");
    expect((await srv.post(`${E}/commands/authorize_response`, AUTH_A)).status).toBe(200);
    await events.waitFor((m) => m.event === "session_event" && m.data.event === "ChargingStarted");
    // Energy must move on the meter before the stop (11 kW is about 3 Wh a second).
    await events.waitFor((m) => m.event === "powermeter" && m.data.energy_Wh_import.total > 2, 10_000);
    expect((await srv.post(`${E}/sim/car`, { script: "unplug", replace: true })).status).toBe(202);
    const finished = await events.waitFor((m) => m.event === "session_event" && m.data.event === "SessionFinished", 10_000);

    // Recorded before it was published: the history already has the finished session.
    const res = await srv.get(`${E}/sessions`);
    expect(res.status).toBe(200);
    const page = v.parse(SessionPageSchema, res.body);
    expect(page.sessions.length).toBe(1);
    const s = page.sessions[0]!;
    expect(s).toMatchObject({ uuid: finished.data.uuid, state: "finished", started_by: "EVConnected", stop_reason: "EVDisconnected", id_tag: TOKEN_A });
    expect(s.energy_Wh).toBeGreaterThan(0);
    expect(s.duration_s).toBeGreaterThan(0);

    const key = (await srv.get(`${E}/vars/powermeter_public_key_ocmf`)).body as string;
    expect(typeof key).toBe("string");
    for (const record of [s.start_signed_meter_value, s.signed_meter_value]) {
      expect(record?.encoding_method).toBe("OCMF");
      expect((await verifyOcmfRecord(record!.signed_meter_data, key)).verified).toBe(true);
    }
    // The server says the same in the answer (the dashboard's "verified" column).
    expect(s.ocmf_verified).toEqual({ start: true, stop: true });
    expect((await fetch(`${srv.url}${E}/sessions`)).status).toBe(401);
    events.close();
  }, 40_000);

  test("a corrupt storage file is moved aside, logged and shown in /healthz, which stays 200", async () => {
    const dir = mkdtempSync(join(tmpdir(), "evse-corrupt-"));
    dirs.push(dir);
    const path = join(dir, "state.sqlite");
    writeFileSync(path, "this is not a database, it is a shopping list");
    const srv = await startServer({ config: { storage: { path } } });
    servers.push(srv);
    const health = await srv.get("/healthz");
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("ok");
    expect(health.body.storage.persistent).toBe(true);
    expect(health.body.storage.problem).toContain("moved to");
    expect(readdirSync(dir).some((f) => f.startsWith("state.sqlite.corrupt-"))).toBe(true);
    expect(srv.output.some((line) => line.includes("WARNING storage") && line.includes(path))).toBe(true);
  }, 30_000);
});
