// The dashboard's sentences for what limits an EVSE (web/client/limit-words.ts) and for the MQTT
// and OCPP connections (web/client/connection-words.ts), as pure functions of the API's answers.
import { describe, expect, test } from "bun:test";
import { connectorText, mqttBadge, ocppBadge, type MqttConnection, type OcppConnection } from "../web/client/connection-words.ts";
import { limitLines, type StatusSummary } from "../web/client/limit-words.ts";

const status = (over: Partial<StatusSummary>): StatusSummary => ({
  state: "Charging",
  enabled: true,
  offered_current_A: 16,
  max_current_A: 16,
  local_limit_A: null,
  failsafe: false,
  failsafe_current_A: null,
  site_share_A: null,
  site_max_current_A: null,
  ...over,
});
const texts = (s: StatusSummary) => limitLines(s).map((l) => l.text);

describe("limits in words", () => {
  test("nothing to say without a local limit or a site limit", () => {
    expect(texts(status({}))).toEqual([]);
  });

  test("a local limit names its current; 0 A says it pauses", () => {
    expect(texts(status({ local_limit_A: 10 }))).toEqual(["Limited to 10 A by local control"]);
    expect(texts(status({ local_limit_A: 6.5 }))).toEqual(["Limited to 6.5 A by local control"]);
    expect(texts(status({ local_limit_A: 0 }))).toEqual(["Paused by local control (0 A)"]);
  });

  test("the failsafe replaces the local limit's sentence with the current it fell back to", () => {
    expect(texts(status({ local_limit_A: 20, failsafe: true, failsafe_current_A: 6, max_current_A: 6 }))).toEqual(["Failsafe: energy manager silent, 6 A"]);
    expect(texts(status({ local_limit_A: 20, failsafe: true, failsafe_current_A: 0, max_current_A: 0 }))).toEqual(["Failsafe: energy manager silent, paused (0 A)"]);
    // An older server without failsafe_current_A: the effective limit.
    const old = status({ local_limit_A: 20, failsafe: true, max_current_A: 8 });
    delete old.failsafe_current_A;
    expect(texts(old)).toEqual(["Failsafe: energy manager silent, 8 A"]);
    expect(limitLines(status({ local_limit_A: 20, failsafe: true, failsafe_current_A: 6 }))[0]!.tone).toBe("warn");
  });

  test("the site share is said with the site limit it is a share of", () => {
    expect(texts(status({ site_share_A: 6.6, site_max_current_A: 32 }))).toEqual(["Site share 6.6 A of 32 A"]);
    expect(texts(status({ site_share_A: 16, site_max_current_A: 32, local_limit_A: 10 }))).toEqual(["Limited to 10 A by local control", "Site share 16 A of 32 A"]);
    const old = status({ site_share_A: 0 });
    delete old.site_max_current_A;
    expect(texts(old)).toEqual(["Site share 0 A"]);
  });
});

const mqtt = (over: Partial<MqttConnection>): MqttConnection => ({ configured: true, connected: false, broker: "mqtt://10.0.0.2:1883", last_error: null, queued: 0, dropped: 0, ...over });
const ocpp = (over: Partial<OcppConnection>): OcppConnection => ({ configured: true, connected: true, registration: "Accepted", queued_transaction_messages: 0, last_error: null, ...over });

describe("connection badges in words", () => {
  test("MQTT: nothing when not configured; connected; reconnecting with the reason", () => {
    expect(mqttBadge(null)).toBeNull();
    expect(mqttBadge(mqtt({ configured: false }))).toBeNull();
    expect(mqttBadge(mqtt({ connected: true }))).toMatchObject({ text: "MQTT connected", tone: "ok" });
    expect(mqttBadge(mqtt({ connected: true }))!.title).toContain("mqtt://10.0.0.2:1883");
    expect(mqttBadge(mqtt({ last_error: "connect ECONNREFUSED 10.0.0.2:1883" }))).toMatchObject({ text: "MQTT: reconnecting — connect ECONNREFUSED 10.0.0.2:1883", tone: "bad" });
    expect(mqttBadge(mqtt({}))!.text).toBe("MQTT: connecting");
  });

  test("OCPP: nothing when not configured; connected with the registration; offline with the queue", () => {
    expect(ocppBadge(null)).toBeNull();
    expect(ocppBadge(ocpp({ configured: false }))).toBeNull();
    expect(ocppBadge(ocpp({}))).toMatchObject({ text: "OCPP connected · Accepted", tone: "ok" });
    expect(ocppBadge(ocpp({ registration: "Pending" }))).toMatchObject({ text: "OCPP connected · Pending", tone: "warn" });
    expect(ocppBadge(ocpp({ connected: false, registration: null, queued_transaction_messages: 3, last_error: "ECONNREFUSED" }))).toMatchObject({ text: "OCPP offline — 3 messages queued", tone: "bad" });
    expect(ocppBadge(ocpp({ connected: false, queued_transaction_messages: 1 }))!.text).toBe("OCPP offline — 1 message queued");
    expect(ocppBadge(ocpp({ connected: false }))!.text).toBe("OCPP offline");
    expect(ocppBadge(ocpp({ connected: false, last_error: "ECONNREFUSED", queued_transaction_messages: 2 }))!.title).toBe("ECONNREFUSED; 2 transaction messages queued");
  });

  test("a connector's OCPP status, with its error code when there is one", () => {
    expect(connectorText(undefined)).toBeNull();
    expect(connectorText({ connector_id: 1, status: "Charging", error_code: "NoError" })).toBe("OCPP Charging");
    expect(connectorText({ connector_id: 1, status: "Faulted", error_code: "GroundFailure" })).toBe("OCPP Faulted (GroundFailure)");
  });
});
