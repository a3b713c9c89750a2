// The MQTT bridge and Home Assistant discovery against a real Mosquitto (integration.md §3–4):
// the program runs as a child process, an independent mqtt.js client watches the broker.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startMosquitto, type Broker } from "./helpers/mosquitto.ts";
import { watch, type Received, type Watcher } from "./helpers/mqtt-watch.ts";
import { parsePrometheus } from "./helpers/prometheus.ts";
import { runCli, startServer, type TestServer } from "./helpers/server.ts";
import { until } from "./helpers/until.ts";

const E = "/api/v1/evses/1";
const PLUG_CHARGE = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000";

let broker: Broker;
const servers: TestServer[] = [];
const watchers: Watcher[] = [];
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await Promise.all(watchers.map((w) => w.close()));
  await Promise.all(servers.map((s) => s.stop()));
  await broker?.stop();
});

const unique = () => crypto.randomUUID().slice(0, 8);

function mqttConfig(b: Broker, prefix: string, extra: Record<string, unknown> = {}) {
  return { url: b.url, username: b.username, password: b.password, topic_prefix: prefix, ...extra };
}

async function start(config: Record<string, unknown>) {
  const s = await startServer({ exe: "binary", config: { disable_authentication: true, ...config }, waitReady: true });
  servers.push(s);
  return s;
}

async function watching(b: Broker, topics: string[], options = {}) {
  const w = await watch(b, topics, options);
  watchers.push(w);
  return w;
}

/** The value of an unlabelled metric in a /metrics text. */
const metric = (text: string, name: string) => parsePrometheus(text).get(name)?.samples[0]?.value;

const isEvent = (P: string, name: string) => (m: Received) => m.topic === `${P}/evse/1/event` && m.json?.event === name;

describe("MQTT bridge", () => {
  test("availability, status, variables and errors are retained; session events arrive in order, not retained", async () => {
    const P = `t/${unique()}`;
    const srv = await start({ mqtt: mqttConfig(broker, P) });
    const live = await watching(broker, [`${P}/#`]);
    await live.waitFor((m) => m.topic === `${P}/evse/1/status`, 5000, "status");
    const events = srv.events();

    expect((await srv.post(`${E}/sim/car`, { script: PLUG_CHARGE })).status).toBe(202);
    await live.waitFor(isEvent(P, "ChargingStarted"), 10_000, "ChargingStarted on MQTT");
    await live.waitFor((m) => m.topic === `${P}/evse/1/status` && m.json.charging === true && m.json.state === "Charging", 5000, "status charging");
    expect((await srv.post(`${E}/sim/car`, { script: "unplug", replace: true })).status).toBe(202);
    await live.waitFor(isEvent(P, "SessionFinished"), 10_000, "SessionFinished on MQTT");
    await events.waitFor((m) => m.event === "session_event" && m.data.event === "SessionFinished");

    // Every session event of the session, in the order the event stream has them, QoS 1, not retained.
    const mqttEvents = live.on(`${P}/evse/1/event`);
    const sse = events.messages.filter((m) => m.event === "session_event").map((m) => m.data);
    const from = sse.findIndex((e) => e.event === "SessionStarted");
    const fromMqtt = mqttEvents.findIndex((m) => m.json.event === "SessionStarted");
    expect(fromMqtt).toBeGreaterThanOrEqual(0);
    expect(mqttEvents.slice(fromMqtt).map((m) => m.json)).toEqual(sse.slice(from));
    const names = mqttEvents.slice(fromMqtt).map((m) => m.json.event);
    expect(names.at(-1)).toBe("SessionFinished");
    expect(names.indexOf("TransactionStarted")).toBeLessThan(names.indexOf("ChargingStarted"));
    expect(names.indexOf("ChargingStarted")).toBeLessThan(names.indexOf("TransactionFinished"));
    expect(mqttEvents.every((m) => !m.retain && m.qos === 1)).toBe(true);
    // The same events as the variable's topic, which the bridge publishes beside the event topic:
    // its SessionFinished may reach the broker a moment after the event topic's.
    await live.waitFor((m) => m.topic === `${P}/evse/1/var/session_event` && m.json?.event === "SessionFinished", 5000, "SessionFinished on var/session_event");
    expect(live.on(`${P}/evse/1/var/session_event`).map((m) => m.json)).toEqual(mqttEvents.map((m) => m.json));

    // Once the unplugged state has reached the broker (on a loaded machine some variables and the
    // status may follow SessionFinished by a moment), a client that connects gets the retained
    // state: availability, status, the 13 other variables as the API has them, the errors array;
    // no session event.
    const VARS = ["evse_id", "hw_capabilities", "ready", "limits", "selected_protocol", "waiting_for_external_ready", "powermeter_public_key_ocmf", "ev_info", "car_manufacturer", "iso15118_certificate_request", "enforced_limits"];
    const lastJson = (topic: string) => live.on(topic).at(-1)?.json;
    await until("the broker to have the unplugged state", () => srv.get(`${E}/vars`), (r) => {
      const vars = r.body as Record<string, unknown>;
      return lastJson(`${P}/evse/1/status`)?.cp === "A" && VARS.every((name) => Bun.deepEquals(lastJson(`${P}/evse/1/var/${name}`), vars[name]));
    });
    const late = await watching(broker, [`${P}/#`]);
    await late.waitFor((m) => m.topic === `${P}/evse/1/errors`, 5000, "retained errors");
    await Bun.sleep(200);
    const retained = new Map(late.messages.filter((m) => m.retain).map((m) => [m.topic, m]));
    expect(retained.get(`${P}/availability`)?.text).toBe("online");
    expect(retained.get(`${P}/evse/1/errors`)?.json).toEqual([]);
    const status = retained.get(`${P}/evse/1/status`)!.json;
    expect(status).toMatchObject({ evse: 1, cp: "A", plugged: false, charging: false, enabled: true });
    for (const key of ["state", "offered_current_A", "max_current_A", "phases", "power_W", "session_energy_Wh", "total_energy_Wh", "current_A", "voltage_V", "session_uuid", "id_tag", "errors"]) {
      expect(status).toHaveProperty(key);
    }
    const vars = (await srv.get(`${E}/vars`)).body as Record<string, unknown>;
    for (const name of VARS) {
      expect(retained.get(`${P}/evse/1/var/${name}`)?.json).toEqual(vars[name]);
    }
    expect([...retained.keys()].filter((t) => t.startsWith(`${P}/evse/1/var/`)).length).toBe(13);
    expect(retained.has(`${P}/evse/1/event`)).toBe(false);
    expect(retained.has(`${P}/evse/1/var/session_event`)).toBe(false);

    // Clean shutdown: `offline`, retained.
    await srv.stop();
    await late.waitFor((m) => m.topic === `${P}/availability` && m.text === "offline", 5000, "offline at shutdown");
    events.close();
  }, 45_000);

  test("commands answer on …/result as over HTTP, with the MQTT 5 response topic and correlation data honoured", async () => {
    const P = `t/${unique()}`;
    const srv = await start({ mqtt: mqttConfig(broker, P, { homeassistant: { enabled: false } }) });
    const c = await watching(broker, [`${P}/evse/1/cmd/#`, `reply/${P}/#`]);
    await until("bridge connected", () => srv.get("/metrics"), (r) => metric(r.body, "evse_mqtt_connected") === 1);
    const result = (name: string) => (m: Received) => m.topic === `${P}/evse/1/cmd/${name}/result`;

    // A valid command: the same answer as POST …/commands/get_evse.
    await c.publish(`${P}/evse/1/cmd/get_evse`, "{}");
    const got = await c.waitFor(result("get_evse"), 5000, "get_evse result");
    expect(got.json).toEqual((await srv.post(`${E}/commands/get_evse`, {})).body);
    expect(got.retain).toBe(false);

    // MQTT 5 request/response: answer on the response topic, with the correlation data.
    const correlationData = Buffer.from(`req-${unique()}`);
    await c.publish(`${P}/evse/1/cmd/get_evse`, "", { properties: { responseTopic: `reply/${P}/1`, correlationData } });
    const reply = await c.waitFor((m) => m.topic === `reply/${P}/1`, 5000, "response topic");
    expect(reply.json).toEqual(got.json);
    expect(reply.correlationData?.equals(correlationData)).toBe(true);

    // Invalid bodies change nothing and are answered with the HTTP error body, byte for byte the same.
    const bad: [string, string][] = [
      ["enable_disable", JSON.stringify({ connector_id: "one" })],
      ["pause_charging", "{broken"],
      ["pause_charging", "[1,2]"],
      ["no_such_command", "{}"],
    ];
    for (const [name, payload] of bad) {
      const before = c.on(`${P}/evse/1/cmd/${name}/result`).length;
      await c.publish(`${P}/evse/1/cmd/${name}`, payload);
      const m = await c.waitFor((x) => result(name)(x) && c.on(x.topic).indexOf(x) >= before, 5000, `${name} error`);
      const http = await srv.fetch(`${E}/commands/${name}`, { method: "POST", headers: { "content-type": "application/json" }, body: payload });
      expect(http.status).toBeGreaterThanOrEqual(400);
      expect(m.json).toEqual(await http.json());
    }
    expect((await srv.get(`${E}/vars/session_event`)).body?.event ?? "Enabled").toBe("Enabled");

    // Counted in /metrics.
    const text = (await srv.get("/metrics")).body as string;
    expect(metric(text, "evse_mqtt_messages_received_total")).toBeGreaterThanOrEqual(6);
    expect(metric(text, "evse_mqtt_messages_sent_total")).toBeGreaterThan(0);
    expect(parsePrometheus(text).get("evse_mqtt_messages_dropped_total")?.samples.map((r) => r.labels.reason).sort()).toEqual(["queue_full", "rejected", "superseded"]);
  }, 30_000);

  test("control topics: enabled as a plain value and as a JSON object; bad values are reported on control/result", async () => {
    const P = `t/${unique()}`;
    const srv = await start({ mqtt: mqttConfig(broker, P, { homeassistant: { enabled: false } }) });
    const c = await watching(broker, [`${P}/evse/1/#`]);
    await c.waitFor((m) => m.topic === `${P}/evse/1/status`, 5000, "status");

    await c.publish(`${P}/evse/1/control/enabled/set`, "OFF");
    const disabled = await c.waitFor(isEvent(P, "Disabled"), 5000, "Disabled");
    expect(disabled.json.source).toMatchObject({ enable_source: "LocalAPI", enable_state: "Disable" });
    await c.waitFor((m) => m.topic === `${P}/evse/1/status` && m.json.enabled === false, 5000, "status enabled=false");

    await c.publish(`${P}/evse/1/control/set`, JSON.stringify({ enabled: true }));
    await c.waitFor(isEvent(P, "Enabled"), 5000, "Enabled");
    const ok = await c.waitFor((m) => m.topic === `${P}/evse/1/control/result` && m.json.result?.enabled === true, 5000, "control result");
    expect(ok.json.result.evse).toBe(1);

    const refusals: [string, string, string][] = [
      [`${P}/evse/1/control/max_current_A/set`, "lots", "max_current_A"],
      [`${P}/evse/1/control/enabled/set`, "maybe", "enabled"],
      [`${P}/evse/1/control/set`, JSON.stringify({ enabled: "yes" }), "enabled"],
    ];
    for (const [topic, payload, field] of refusals) {
      const before = c.on(`${P}/evse/1/control/result`).length;
      await c.publish(topic, payload);
      const m = await c.waitFor((x) => x.topic === `${P}/evse/1/control/result` && c.on(x.topic).indexOf(x) >= before, 5000, `refusal of ${payload}`);
      expect(m.json.error).toBe("invalid_body");
      expect(m.json.details.map((d: { path: string }) => d.path)).toContain(field);
    }
    expect((await srv.get(`${E}/vars/session_event`)).body.event).toBe("Enabled");
  }, 30_000);

  test("MQTT 3.1.1 over TLS with a CA file: connects, publishes, answers commands", async () => {
    const tls = await startMosquitto({ tls: true });
    try {
      const P = `t/${unique()}`;
      const srv = await start({ mqtt: mqttConfig(tls, P, { ca_file: tls.caFile, protocol_version: 4, homeassistant: { enabled: false } }) });
      const c = await watching(tls, [`${P}/#`], { protocolVersion: 4 });
      expect((await c.waitFor((m) => m.topic === `${P}/availability`, 5000, "availability")).text).toBe("online");
      await c.waitFor((m) => m.topic === `${P}/evse/1/status`, 5000, "status");
      await c.publish(`${P}/evse/1/cmd/get_evse`, "{}");
      const got = await c.waitFor((m) => m.topic === `${P}/evse/1/cmd/get_evse/result`, 5000, "result");
      expect(got.json.result.id).toBe(1);
      await c.close();
      await srv.stop();
    } finally {
      await tls.stop();
    }
  }, 30_000);

  test("a broker that refuses the login never stops the charger; bad mqtt.* options exit 2 naming the key", async () => {
    const P = `t/${unique()}`;
    const srv = await start({ mqtt: { ...mqttConfig(broker, P), password: "wrong" } });
    await until("refusal logged", async () => srv.output.join("\n"), (out) => /MQTT: .*(authori[sz]ed|Bad username)/i.test(out));
    expect((await srv.get("/healthz")).status).toBe(200);
    expect(metric((await srv.get("/metrics")).body, "evse_mqtt_connected")).toBe(0);
    await srv.stop();

    for (const [doc, key] of [
      [{ mqtt: { url: broker.url, colour: "blue" } }, "mqtt.colour"],
      [{ mqtt: { url: "http://127.0.0.1:1883" } }, "mqtt.url"],
      [{ "mqtt.homeassistant.discovery_prefix": "ha/#" }, "mqtt.homeassistant.discovery_prefix"],
      [{ mqtt: { url: broker.url, ca_file: "/nonexistent/ca.crt" } }, "mqtt.ca_file"],
    ] as const) {
      const path = `${broker.dir}/bad-${unique()}.json`;
      await Bun.write(path, JSON.stringify(doc));
      const r = await runCli(["--config", path]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(key);
    }
  }, 30_000);
});

describe("Home Assistant discovery", () => {
  test("one device per EVSE with the documented keys; re-announced on HA's birth message; a removed EVSE's configs are cleared", async () => {
    const P = `t/${unique()}`;
    const HA = `ha${unique()}`;
    const storage = { path: `${broker.dir}/ha-${unique()}.sqlite` };
    const two = { mqtt: mqttConfig(broker, P, { homeassistant: { discovery_prefix: HA } }), storage, evses: [{ evse_id: "DE*TST*E1", disable_authentication: true }, { evse_id: "DE*TST*E2", disable_authentication: true }] };
    const srv = await startServer({ exe: "binary", config: two, waitReady: true });
    servers.push(srv);
    const ha = await watching(broker, [`${HA}/#`]);
    await ha.waitFor((m) => m.topic.endsWith("/evse2_resume/config"), 8000, "discovery of EVSE 2");
    await Bun.sleep(300);

    const configs = new Map(ha.messages.filter((m) => m.topic.endsWith("/config") && m.text !== "").map((m) => [m.topic, m]));
    const byObject = (component: string, index: number, key: string) => [...configs.values()].find((m) => m.topic.startsWith(`${HA}/${component}/`) && m.topic.endsWith(`/evse${index}_${key}/config`));
    for (const m of configs.values()) {
      expect(m.retain).toBe(true);
      expect(m.topic).toMatch(new RegExp(`^${HA}/(sensor|binary_sensor|switch|number|select|button)/[a-zA-Z0-9_-]+/[a-zA-Z0-9_-]+/config$`));
      expect(m.json.availability_topic).toBe(`${P}/availability`);
      expect(typeof m.json.unique_id).toBe("string");
      expect(m.json.device.identifiers).toContain(m.topic.includes("/evse1_") ? "DE*TST*E1" : "DE*TST*E2");
    }
    expect(new Set([...configs.values()].map((m) => m.json.unique_id)).size).toBe(configs.size);

    for (const index of [1, 2]) {
      const status = `${P}/evse/${index}/status`;
      const sensor = (key: string) => byObject("sensor", index, key)!.json;
      expect(sensor("state")).toMatchObject({ state_topic: status, device_class: "enum", value_template: "{{ value_json.state }}" });
      expect(sensor("power")).toMatchObject({ state_topic: status, device_class: "power", unit_of_measurement: "W", state_class: "measurement" });
      expect(sensor("session_energy")).toMatchObject({ device_class: "energy", unit_of_measurement: "Wh" });
      expect(sensor("total_energy")).toMatchObject({ device_class: "energy", unit_of_measurement: "Wh", state_class: "total_increasing" });
      for (const l of ["l1", "l2", "l3"]) {
        expect(sensor(`current_${l}`)).toMatchObject({ unit_of_measurement: "A", device_class: "current" });
        expect(sensor(`voltage_${l}`)).toMatchObject({ unit_of_measurement: "V", device_class: "voltage" });
      }
      expect(byObject("binary_sensor", index, "plugged")!.json).toMatchObject({ device_class: "plug", state_topic: status });
      expect(byObject("binary_sensor", index, "charging")!.json).toMatchObject({ device_class: "battery_charging" });
      expect(byObject("binary_sensor", index, "problem")!.json).toMatchObject({ device_class: "problem" });
      expect(byObject("switch", index, "enabled")!.json).toMatchObject({ command_topic: `${P}/evse/${index}/control/enabled/set`, state_topic: status });
      expect(byObject("number", index, "max_current")!.json).toMatchObject({ command_topic: `${P}/evse/${index}/control/max_current_A/set`, min: 0, max: 32, unit_of_measurement: "A" });
      expect(byObject("select", index, "phases")!.json).toMatchObject({ command_topic: `${P}/evse/${index}/control/phases/set`, options: ["1", "3"] });
      expect(byObject("button", index, "pause")!.json.command_topic).toBe(`${P}/evse/${index}/cmd/pause_charging`);
      expect(byObject("button", index, "resume")!.json.command_topic).toBe(`${P}/evse/${index}/cmd/resume_charging`);
      for (const m of configs.values()) if (m.json.value_template) expect(m.json.state_topic).toBe(`${P}/evse/${m.topic.includes("/evse1_") ? 1 : 2}/status`);
    }

    // The switch really switches: HA's payload on the command topic.
    const bridge = await watching(broker, [`${P}/evse/1/status`]);
    await ha.publish(byObject("switch", 1, "enabled")!.json.command_topic, "OFF");
    await bridge.waitFor((m) => m.json?.enabled === false, 5000, "disabled through the HA switch");
    await ha.publish(byObject("switch", 1, "enabled")!.json.command_topic, "ON");
    await bridge.waitFor((m) => m.json?.enabled === true && bridge.messages.some((x) => x.json?.enabled === false), 5000, "enabled again");

    // HA restarts: its birth message makes the bridge announce again.
    const before = ha.messages.length;
    await ha.publish(`${HA}/status`, "online");
    await ha.waitFor((m) => ha.messages.indexOf(m) >= before && m.topic.endsWith("/evse2_state/config"), 5000, "re-announcement");

    // Restart with EVSE 2 removed from the configuration: its configs are cleared, EVSE 1's stay.
    await srv.stop();
    const one = { ...two, evses: [two.evses[0]] };
    const srv2 = await startServer({ exe: "binary", config: one, waitReady: true });
    servers.push(srv2);
    const evse2Topics = [...configs.keys()].filter((t) => t.includes("/evse2_"));
    await until("EVSE 2 configs cleared", async () => evse2Topics.filter((t) => ha.messages.some((m) => m.topic === t && m.text === "")).length, (n) => n === evse2Topics.length);
    const fresh = await watching(broker, [`${HA}/#`]);
    await fresh.waitFor((m) => m.topic.endsWith("/evse1_resume/config"), 5000, "EVSE 1 still announced");
    await Bun.sleep(300);
    expect(fresh.messages.filter((m) => m.topic.includes("/evse2_"))).toEqual([]);
    await srv2.stop();
  }, 45_000);
});

describe("broker outage", () => {
  test("killing and restarting the broker mid-session never pauses charging; the bridge reconnects and announces again", async () => {
    const P = `t/${unique()}`;
    const HA = `ha${unique()}`;
    const srv = await start({ mqtt: mqttConfig(broker, P, { homeassistant: { discovery_prefix: HA } }) });
    const events = srv.events();
    const w1 = await watching(broker, [`${P}/#`]);
    await w1.waitFor((m) => m.topic === `${P}/evse/1/status`, 5000, "status");
    expect((await srv.post(`${E}/sim/car`, { script: PLUG_CHARGE })).status).toBe(202);
    await events.waitFor((m) => m.event === "session_event" && m.data.event === "ChargingStarted");
    await until("relays closed", () => srv.get(`${E}/sim`), (r) => r.body.relays_closed === true);
    await w1.close();

    await broker.kill();
    // The broker is gone for ~3 s: charging goes on, the API answers, every poll sees closed relays.
    const until_ = Date.now() + 3000;
    while (Date.now() < until_) {
      const sim = await srv.get(`${E}/sim`);
      expect(sim.status).toBe(200);
      expect(sim.body.relays_closed).toBe(true);
      await Bun.sleep(150);
    }
    expect(metric((await srv.get("/metrics")).body, "evse_mqtt_connected")).toBe(0);
    await broker.start();

    // Mosquitto came back empty (no persistence): the bridge publishes availability, status and
    // the discovery configs again.
    const w2 = await watching(broker, [`${P}/#`, `${HA}/#`]);
    expect((await w2.waitFor((m) => m.topic === `${P}/availability`, 10_000, "availability after the outage")).text).toBe("online");
    await w2.waitFor((m) => m.topic === `${P}/evse/1/status` && m.json.charging === true, 5000, "status: still charging");
    await w2.waitFor((m) => m.topic.startsWith(`${HA}/sensor/`) && m.topic.endsWith("/evse1_state/config"), 5000, "discovery again");
    await until("connected gauge", () => srv.get("/metrics"), (r) => metric(r.body, "evse_mqtt_connected") === 1);

    const during = events.sessionEvents().slice(events.sessionEvents().indexOf("ChargingStarted") + 1);
    expect(during).toEqual([]);
    expect((await srv.get(`${E}/sim`)).body.relays_closed).toBe(true);
    events.close();
  }, 45_000);
});

describe("slow broker", () => {
  test("a broker that stops answering holds nothing up; what happened meanwhile arrives afterwards, in order", async () => {
    const P = `t/${unique()}`;
    const srv = await start({ mqtt: mqttConfig(broker, P, { homeassistant: { enabled: false } }) });
    const w = await watching(broker, [`${P}/evse/1/event`]);
    const events = srv.events();
    expect((await srv.post(`${E}/sim/car`, { script: PLUG_CHARGE })).status).toBe(202);
    await w.waitFor(isEvent(P, "ChargingStarted"), 10_000, "ChargingStarted");

    broker.freeze();
    try {
      // Commands and reads go on while the broker acknowledges nothing.
      expect((await srv.post(`${E}/commands/pause_charging`, {})).status).toBe(200);
      await events.waitFor((m) => m.event === "session_event" && m.data.event === "ChargingPausedEVSE");
      expect((await srv.post(`${E}/commands/resume_charging`, {})).status).toBe(200);
      // resume_charging restarts with PrepareCharging, ChargingStarted (scenario S06).
      await until("charging again", async () => events.sessionEvents().slice(events.sessionEvents().indexOf("ChargingPausedEVSE")), (e) => e.includes("ChargingStarted"));
      await until("relays closed again", () => srv.get(`${E}/sim`), (r) => r.body.relays_closed === true);
      expect((await srv.get("/healthz")).status).toBe(200);
    } finally {
      broker.thaw();
    }
    const resumed = (m: Received) => isEvent(P, "ChargingStarted")(m) && w.on(m.topic).some((x) => x.json.event === "ChargingPausedEVSE");
    await w.waitFor(resumed, 10_000, "ChargingStarted after the pause, once the broker woke up");
    const sse = events.messages.filter((m) => m.event === "session_event").map((m) => m.data.event as string);
    const mqtt = w.on(`${P}/evse/1/event`).map((m) => m.json.event as string);
    expect(mqtt).toEqual(sse.slice(sse.indexOf(mqtt[0]!), sse.lastIndexOf("ChargingStarted") + 1));
    expect(mqtt.slice(mqtt.indexOf("ChargingPausedEVSE"))).toEqual(["ChargingPausedEVSE", "PrepareCharging", "ChargingStarted"]);
    events.close();
  }, 30_000);
});
