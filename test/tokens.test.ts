// The authorization front end without OCPP (ocpp.md §1, §2): `auth.tokens` is the whitelist,
// POST /api/v1/tokens authorizes, stops by the same token or one of its group, picks the EVSE,
// and withdraws an authorization that is not followed by a plug-in within the timeout.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startServer, type TestServer } from "./helpers/server.ts";

setDefaultTimeout(120_000);
const PLUG_CHARGE = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000";
const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.allSettled(servers.map((s) => s.stop()));
});

const tokens = [
  { id_tag: "GOOD0001", status: "Accepted", parent_id_tag: "FAMILY" },
  { id_tag: "GOOD0002", status: "Accepted", parent_id_tag: "FAMILY" },
  { id_tag: "LOST0001", status: "Blocked" },
  { id_tag: "OLD00001", status: "Accepted", expiry: "2020-01-01T00:00:00Z" },
];
const RFID = (value: string, evse?: number) => ({ id_token: { value, type: "ISO14443" }, ...(evse ? { evse } : {}) });

async function server(config: Record<string, unknown>): Promise<TestServer> {
  const srv = await startServer({ config, waitReady: true, timeoutMs: 60_000 });
  servers.push(srv);
  return srv;
}

async function waitEvent(srv: TestServer, evse: number, name: string, timeoutMs = 15_000): Promise<void> {
  const events = srv.events({ evse });
  try {
    await events.waitFor((m) => m.event === "session_event" && m.data.event === name, timeoutMs);
  } finally {
    events.close();
  }
}

describe("POST /api/v1/tokens without OCPP", () => {
  test("whitelist: unknown → Invalid, Blocked and expired entries Rejected, a good token authorizes; the body is validated", async () => {
    const srv = await server({ auth: { tokens } });
    expect((await srv.post("/api/v1/tokens", RFID("NOBODY"))).body).toEqual({ result: "Rejected", authorization_status: "Invalid", evse: null });
    expect((await srv.post("/api/v1/tokens", RFID("lost0001"))).body).toEqual({ result: "Rejected", authorization_status: "Blocked", evse: null });
    expect((await srv.post("/api/v1/tokens", RFID("OLD00001"))).body).toEqual({ result: "Rejected", authorization_status: "Expired", evse: null });
    const bad = await srv.post("/api/v1/tokens", { id_token: { value: "X", type: "Nope" } });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].path).toBe("id_token.type");
    expect((await srv.post("/api/v1/tokens", { ...RFID("GOOD0001"), extra: 1 })).status).toBe(400);
    expect((await srv.post("/api/v1/tokens", RFID("GOOD0001", 2))).status).toBe(400);
    expect((await srv.get("/api/v1/ocpp")).body).toEqual({ configured: false, connected: false, registration: null, queued_transaction_messages: 0, last_error: null });

    await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE });
    await waitEvent(srv, 1, "AuthRequired");
    expect((await srv.post("/api/v1/tokens", RFID("GOOD0001"))).body).toEqual({ result: "Authorized", authorization_status: "Accepted", evse: 1 });
    await waitEvent(srv, 1, "ChargingStarted");
    // A second EVSE-less request with another token finds nothing free.
    expect((await srv.post("/api/v1/tokens", { id_token: { value: "GOOD0002", type: "ISO14443" }, authorization_type: "BankCard" })).body.result).toBe("NoConnectorAvailable");
    // Same group (parent FAMILY), no free EVSE: it stops the transaction.
    expect((await srv.post("/api/v1/tokens", RFID("GOOD0002"))).body).toEqual({ result: "Stopped", authorization_status: "Accepted", evse: 1 });
    await waitEvent(srv, 1, "TransactionFinished");
  });

  test("two EVSEs: the token goes to the EVSE plugged most recently; the same token stops its own transaction; the authorization expires without plug-in", async () => {
    const srv = await server({ auth: { tokens, connection_timeout_s: 2 }, evses: [{}, {}] });
    await srv.post("/api/v1/evses/2/sim/car", { script: PLUG_CHARGE });
    await waitEvent(srv, 2, "AuthRequired");
    expect((await srv.post("/api/v1/tokens", RFID("GOOD0001"))).body).toEqual({ result: "Authorized", authorization_status: "Accepted", evse: 2 });
    await waitEvent(srv, 2, "TransactionStarted");
    // Authorize-first on the free EVSE 1, never plugged: withdrawn after connection_timeout_s.
    expect((await srv.post("/api/v1/tokens", RFID("GOOD0002"))).body).toEqual({ result: "Authorized", authorization_status: "Accepted", evse: 1 });
    await waitEvent(srv, 1, "SessionFinished", 10_000);
    expect((await srv.post("/api/v1/tokens", RFID("GOOD0001"))).body).toEqual({ result: "Stopped", authorization_status: null, evse: 2 });
    await waitEvent(srv, 2, "TransactionFinished");
  });
});
