import { describe, expect, test } from "bun:test";
import { createLogger, PublicationLog } from "../api/index.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

const T0 = Date.parse("2025-03-01T12:00:00Z");

function setup(format: "text" | "json") {
  const lines: string[] = [];
  const logger = createLogger(format, (l) => lines.push(l), () => T0);
  const evse = logger.forEvse(2);
  const pubs = new PublicationLog();
  pubs.onPublish(evse.publication);
  return { lines, evse, pubs };
}

describe("log", () => {
  test("one text line per session event, with the EVSE index and the session uuid", () => {
    const { lines, pubs } = setup("text");
    pubs.publish("session_event", { uuid: "", event: "Enabled" });
    pubs.publish("ready", true);
    pubs.publish("session_event", { uuid: "abc", event: "SessionStarted" });
    expect(lines).toEqual([
      "2025-03-01T12:00:00.000Z evse=2 session=- id=1 session_event Enabled",
      "2025-03-01T12:00:00.000Z evse=2 session=abc id=3 session_event SessionStarted",
    ]);
  });

  test("kernel lines carry the uuid of the running session, and none after it finished", () => {
    const { lines, evse, pubs } = setup("text");
    pubs.publish("session_event", { uuid: "abc", event: "SessionStarted" });
    evse.log("state Idle -> WaitingForAuthentication");
    pubs.publish("session_event", { uuid: "abc", event: "SessionFinished" });
    evse.log("state Finished -> Idle");
    expect(lines[1]).toBe("2025-03-01T12:00:00.000Z evse=2 session=abc state Idle -> WaitingForAuthentication");
    expect(lines[3]).toBe("2025-03-01T12:00:00.000Z evse=2 session=- state Finished -> Idle");
  });

  test("json format writes one parseable object per line with the same fields", () => {
    const { lines, evse, pubs } = setup("json");
    pubs.publish("session_event", { uuid: "abc", event: "TransactionFinished", transaction_finished: { reason: "EVDisconnected" } });
    evse.log("hello");
    expect(JSON.parse(lines[0]!)).toEqual({ ts: "2025-03-01T12:00:00.000Z", evse: 2, session: "abc", id: 1, msg: "session_event TransactionFinished reason=EVDisconnected" });
    expect(JSON.parse(lines[1]!)).toEqual({ ts: "2025-03-01T12:00:00.000Z", evse: 2, session: null, msg: "hello" });
  });
});

describe("log of the real program", () => {
  const E = "/api/v1/evses/1";
  const SCRIPT = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000";
  const AUTH = { provided_token: { id_token: { value: "RFID0001", type: "ISO14443" }, authorization_type: "RFID" }, validation_result: { authorization_status: "Accepted" } };

  /** One short session: plug, authorize, charge, unplug; returns the session uuid. */
  async function session(srv: TestServer): Promise<string> {
    const events = srv.events();
    expect((await srv.post(`${E}/sim/car`, { script: SCRIPT })).status).toBe(202);
    const started = await events.waitFor((m) => m.event === "session_event" && m.data.event === "SessionStarted");
    await events.waitFor((m) => m.event === "session_event" && m.data.event === "AuthRequired");
    expect((await srv.post(`${E}/commands/authorize_response`, AUTH)).status).toBe(200);
    await events.waitFor((m) => m.event === "session_event" && m.data.event === "ChargingStarted");
    for (let k = 0; k < 100 && (await srv.get(`${E}/sim`)).body.relays_closed !== true; k++) await Bun.sleep(50);
    expect((await srv.post(`${E}/sim/car`, { script: "unplug", replace: true })).status).toBe(202);
    await events.waitFor((m) => m.event === "session_event" && m.data.event === "SessionFinished");
    events.close();
    await Bun.sleep(100); // the last lines reach the pipe
    return started.data.uuid as string;
  }

  test("a session writes its events, state changes and write requests, tagged with EVSE and uuid, as text and as JSON", async () => {
    const [text, json] = await Promise.all([startServer({ waitReady: true }), startServer({ waitReady: true, args: ["--log-format", "json"] })]);
    try {
      const [uuidT, uuidJ] = await Promise.all([session(text), session(json)]);

      const t = text.output;
      const tagged = (msg: RegExp) => t.find((l) => l.includes(`evse=1 session=${uuidT}`) && msg.test(l));
      expect(tagged(/session_event SessionStarted$/)).toBeDefined();
      expect(tagged(/state WaitingForAuthentication -> PrepareCharging|state \w+ -> Charging$/)).toBeDefined();
      expect(tagged(/write POST \/api\/v1\/evses\/1\/commands\/authorize_response \{.*"RFID0001".*\} -> 200 \{"result":null\}$/)).toBeDefined();
      expect(tagged(/session_event SessionFinished$/)).toBeDefined();
      expect(t.some((l) => / evse=1 session=- write POST \/api\/v1\/evses\/1\/sim\/car \{"script":.*\} -> 202 \{"accepted":true\}$/.test(l))).toBe(true);

      const lines = json.output.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.length).toBe(json.output.filter((l) => l.trim() !== "").length); // every line is JSON
      const mine = lines.filter((l) => l.evse === 1 && l.session === uuidJ);
      expect(mine.some((l) => l.msg === "session_event SessionStarted")).toBe(true);
      expect(mine.some((l) => typeof l.msg === "string" && /^state \w+ -> Charging$/.test(l.msg))).toBe(true);
      expect(mine.some((l) => l.msg === "write" && l.method === "POST" && l.path === `${E}/commands/authorize_response` && l.status === 200 && l.answer === '{"result":null}')).toBe(true);

      // The same session in /metrics.
      const { parsePrometheus, sampleValue } = await import("./helpers/prometheus.ts");
      const f = parsePrometheus(await (await text.fetch("/metrics")).text());
      expect(sampleValue(f, "evse_sessions_finished_total", { evse: "1" })).toBe(1);
      expect(sampleValue(f, "evse_relay_switches_total", { evse: "1" })).toBeGreaterThanOrEqual(2);
      expect(sampleValue(f, "evse_board_reports_total", { evse: "1" })).toBeGreaterThan(0);
      expect(sampleValue(f, "evse_rt_reaction_latency_seconds", { evse: "1" }, "evse_rt_reaction_latency_seconds_count")).toBeGreaterThan(0);
    } finally {
      await Promise.all([text.stop(), json.stop()]);
    }
  }, 40_000);
});
