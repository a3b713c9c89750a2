// Black-box audit of the MQTT bridge and Home Assistant discovery against integration.md §1–§4,
// sentence by sentence: the real program (bun main.ts) with the defaults (topic prefix
// `evse-manager/<hostname>`, discovery prefix `homeassistant`) against a Mosquitto of its own,
// watched by an independent mqtt.js client. The tests of one describe run in order and share the
// broker: a run with two EVSEs, then a restart with one (removed EVSE's configs), then a broker
// restart, then a kill (last will).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { hostname } from "node:os";
import { startMosquitto, type Broker } from "./helpers/mosquitto.ts";
import { watch, type Received, type Watcher } from "./helpers/mqtt-watch.ts";
import { parsePrometheus } from "./helpers/prometheus.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { until } from "./helpers/until.ts";

const PLUG_CHARGE = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000";
const STATES = ["Idle", "WaitingForAuthentication", "PrepareCharging", "Charging", "ChargingPausedEV", "ChargingPausedEVSE", "WaitingForEnergy", "StoppingCharging", "Finished", "Disabled"];
const VARS = ["evse_id", "hw_capabilities", "ready", "limits", "selected_protocol", "waiting_for_external_ready", "powermeter", "powermeter_public_key_ocmf", "telemetry", "ev_info", "car_manufacturer", "iso15118_certificate_request", "enforced_limits"];

let broker: Broker;
const servers: TestServer[] = [];
const watchers: Watcher[] = [];
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await Promise.all(watchers.map((w) => w.close()));
  await Promise.all(servers.map((s) => s.stop("SIGKILL")));
  await broker?.stop();
});

async function watching(b: Broker, topics: string[], options = {}) {
  const w = await watch(b, topics, options);
  watchers.push(w);
  return w;
}

async function start(config: Record<string, unknown>) {
  const s = await startServer({ exe: "binary", config: config.evses ? config : { disable_authentication: true, ...config }, waitReady: true });
  servers.push(s);
  return s;
}

/** The next message on `topic` after those already received. */
function next(w: Watcher, topic: string, what: string, pred: (m: Received) => boolean = () => true, timeoutMs = 5000) {
  const before = w.on(topic).length;
  return () => w.waitFor((m) => m.topic === topic && w.on(topic).indexOf(m) >= before && pred(m), timeoutMs, what);
}

// ---- a small Jinja subset, as Home Assistant renders `value_template` --------------------------

/** Python's str() of a JSON value (what HA makes of a template's result). */
function pyStr(v: unknown): string {
  if (v === true) return "True";
  if (v === false) return "False";
  if (v === null) return "None";
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  throw new Error(`cannot render ${JSON.stringify(v)}`);
}
const pyTruthy = (v: unknown) => !(v === false || v === null || v === 0 || v === "" || (Array.isArray(v) && v.length === 0));

function evalExpr(expr: string, value_json: unknown): unknown {
  const e = expr.trim();
  let m = /^'([^']*)' if (.+) else '([^']*)'$/.exec(e);
  if (m) return pyTruthy(evalExpr(m[2]!, value_json)) ? m[1] : m[3];
  m = /^(.+?)\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?)$/.exec(e);
  if (m) {
    const a = evalExpr(m[1]!, value_json) as number;
    const b = Number(m[3]);
    return { ">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b, "==": a === b, "!=": a !== b }[m[2]!];
  }
  m = /^(.+?)\s*\|\s*(length|int|float|string|lower|upper)$/.exec(e);
  if (m) {
    const v = evalExpr(m[1]!, value_json);
    if (m[2] === "length") return (v as unknown[]).length;
    if (m[2] === "int") return Math.trunc(Number(v));
    if (m[2] === "float") return Number(v);
    if (m[2] === "string") return pyStr(v);
    return m[2] === "lower" ? String(v).toLowerCase() : String(v).toUpperCase();
  }
  if (/^value_json(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]|\['[^']*'\])*$/.test(e)) {
    let v: any = value_json;
    for (const [, dot, idx, key] of e.slice("value_json".length).matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['([^']*)'\]/g)) {
      const k = dot ?? key ?? Number(idx);
      if (v === null || typeof v !== "object" || !(k in v)) throw new Error(`${e}: no ${k} in ${JSON.stringify(v)}`);
      v = v[k];
    }
    return v;
  }
  throw new Error(`template expression not understood by the audit: ${e}`);
}

function render(template: string, value_json: unknown): string {
  const m = /^\s*\{\{(.+)\}\}\s*$/s.exec(template);
  if (!m) throw new Error(`not a single {{ … }} template: ${template}`);
  return pyStr(evalExpr(m[1]!, value_json));
}

// ---- the checks ----------------------------------------------------------------------------

describe("integration.md §3–§4 with the default prefixes", () => {
  const P = `evse-manager/${hostname()}`;
  const nodeId = P.replace(/[^a-zA-Z0-9_-]+/g, "_");
  let srv: TestServer;
  let live: Watcher;
  const two = [
    { evse_id: "DE*AUD*E1", disable_authentication: true, switch_3ph1ph_delay_s: 2 },
    { evse_id: "DE*AUD*E2", disable_authentication: true, sim: { max_current_A_import: 20 } },
  ];
  const storage = () => ({ path: `${broker.dir}/audit.sqlite` });
  const mqttDefaults = () => ({ url: broker.url, username: broker.username, password: broker.password, status_interval_s: 1 });
  const configsOf = (w: Watcher) => new Map(w.messages.filter((m) => m.topic.startsWith("homeassistant/") && m.topic.endsWith("/config")).map((m) => [m.topic, m]));

  test("§3 topics under evse-manager/<hostname>: availability, status, 13 variables, errors retained; formats", async () => {
    live = await watching(broker, [`${P}/#`, "homeassistant/#"]);
    srv = await start({ storage: storage(), evses: two, mqtt: mqttDefaults() });
    const avail = await live.waitFor((m) => m.topic === `${P}/availability`, 8000, "availability");
    expect(avail.text).toBe("online");
    expect(avail.retain).toBe(true);
    await live.waitFor((m) => m.topic === `${P}/evse/2/errors`, 8000, "errors of EVSE 2");
    await Bun.sleep(300);

    // A client that subscribes now gets the retained state.
    const late = await watching(broker, [`${P}/#`]);
    await late.waitFor((m) => m.topic === `${P}/evse/2/errors`, 5000, "retained errors");
    await Bun.sleep(200);
    const retained = new Map(late.messages.filter((m) => m.retain).map((m) => [m.topic, m]));
    expect(retained.get(`${P}/availability`)?.text).toBe("online");
    for (const i of [1, 2]) {
      const status = retained.get(`${P}/evse/${i}/status`)!.json;
      const http = (await srv.get(`/api/v1/evses/${i}/status`)).body;
      expect(status.evse).toBe(i);
      // The §1 object plus `evse`: same keys, same types as GET …/status.
      expect(Object.keys(status).sort()).toEqual([...Object.keys(http), "evse"].sort());
      expect(STATES).toContain(status.state);
      expect(["A", "B", "C", "D", "E", "F"]).toContain(status.cp);
      for (const k of ["plugged", "charging", "enabled"]) expect(typeof status[k]).toBe("boolean");
      for (const k of ["offered_current_A", "max_current_A", "power_W", "session_energy_Wh", "total_energy_Wh"]) expect(typeof status[k]).toBe("number");
      expect([1, 3]).toContain(status.phases);
      for (const k of ["current_A", "voltage_V"]) expect(Object.keys(status[k]).sort()).toEqual(["L1", "L2", "L3"]);
      expect(status.session_uuid).toBeNull();
      expect(status.id_tag).toBeNull();
      expect(Array.isArray(status.errors) && status.errors.every((e: unknown) => typeof e === "string")).toBe(true);
      for (const k of ["state", "cp", "enabled", "phases", "max_current_A", "offered_current_A", "session_uuid"]) expect(status[k]).toEqual(http[k]);

      // The active errors, as GET …/errors has them (a loaded machine may have a worker fault here).
      const errors = retained.get(`${P}/evse/${i}/errors`)!.json;
      expect(Array.isArray(errors)).toBe(true);
      expect(errors.map((e: { type: string }) => e.type)).toEqual(status.errors);
      for (const name of VARS) {
        const m = retained.get(`${P}/evse/${i}/var/${name}`);
        expect(m, `var/${name}`).toBeDefined();
        expect(() => JSON.parse(m!.text)).not.toThrow();
      }
      expect(retained.get(`${P}/evse/${i}/var/evse_id`)!.json).toBe(two[i - 1]!.evse_id);
    }
    // Every live state publication (retain-as-published) carries the retain flag; events do not.
    for (const m of live.messages.filter((x) => x.topic.startsWith(P))) {
      const event = m.topic.endsWith("/event") || m.topic.endsWith("/var/session_event");
      expect(`${m.topic} retain=${m.retain}`).toBe(`${m.topic} retain=${!event}`);
    }
  }, 30_000);

  test("§3 session events: …/event QoS 1 not retained, var/session_event not retained, in order", async () => {
    const off = next(live, `${P}/evse/1/event`, "Disabled", (m) => m.json?.event === "Disabled");
    await live.publish(`${P}/evse/1/control/enabled/set`, "false");
    const disabled = await off();
    expect(disabled.retain).toBe(false);
    expect(disabled.qos).toBe(1);
    await until("GET status enabled false", () => srv.get("/api/v1/evses/1/status"), (r) => r.body.enabled === false);
    const on = next(live, `${P}/evse/1/event`, "Enabled", (m) => m.json?.event === "Enabled");
    await live.publish(`${P}/evse/1/control/enabled/set`, "true");
    await on();
    // The variable's topic carries the same event, published beside …/event: it may arrive a moment later.
    await until(
      "var/session_event to have caught up with …/event",
      async () => [live.on(`${P}/evse/1/var/session_event`).length, live.on(`${P}/evse/1/event`).length],
      ([a, b]) => a === b,
      5000,
    );
    const vse = live.on(`${P}/evse/1/var/session_event`);
    const names = vse.map((m) => m.json.event);
    expect(names.lastIndexOf("Disabled")).toBeGreaterThanOrEqual(0);
    expect(names.lastIndexOf("Enabled")).toBeGreaterThan(names.lastIndexOf("Disabled"));
    expect(vse.map((m) => m.json)).toEqual(live.on(`${P}/evse/1/event`).map((m) => m.json));
    expect(vse.every((m) => !m.retain)).toBe(true);
    const late = await watching(broker, [`${P}/evse/1/var/session_event`, `${P}/evse/1/event`, `${P}/evse/1/var/ready`]);
    await late.waitFor((m) => m.topic.endsWith("/var/ready"), 5000, "retained ready");
    await Bun.sleep(200);
    expect(late.messages.filter((m) => !m.topic.endsWith("/var/ready"))).toEqual([]);
  }, 20_000);

  test("§3 status: published again every status_interval_s and at once on a change", async () => {
    const topic = `${P}/evse/2/status`;
    const from = live.on(topic).length;
    await Bun.sleep(2600);
    expect(live.on(topic).length - from).toBeGreaterThanOrEqual(2);
    const changed = next(live, topic, "status with max_current_A 10", (m) => m.json.max_current_A === 10, 2500);
    await live.publish(`${P}/evse/2/control/max_current_A/set`, "10");
    await changed();
    await live.publish(`${P}/evse/2/control/set`, JSON.stringify({ max_current_A: 20 }));
    await until("max 20", () => srv.get("/api/v1/evses/2/status"), (r) => r.body.max_current_A === 20);
  }, 20_000);

  test("§3 cmd/<command>: result as HTTP, invalid bodies reported; MQTT 5 response topic and correlation data", async () => {
    const base = `${P}/evse/1/cmd`;
    const ask = async (name: string, payload: string, opts = {}) => {
      const got = next(live, `${base}/${name}/result`, `${name} result`);
      await live.publish(`${base}/${name}`, payload, opts);
      return got();
    };
    const r = await ask("get_evse", "{}");
    expect(r.retain).toBe(false);
    expect(r.json).toEqual((await srv.post("/api/v1/evses/1/commands/get_evse", {})).body);
    expect(r.json.result).toBeDefined();
    // An empty payload is an empty body, which HTTP takes as {}.
    expect((await ask("get_evse", "")).json).toEqual(r.json);

    for (const [name, payload] of [
      ["pause_charging", "{not json"],
      ["pause_charging", "[]"],
      ["enable_disable", JSON.stringify({ connector_id: 1, cmd_source: { enable_source: "Nope", enable_state: "Disable", enable_priority: 1 } })],
      ["set_get_certificate_response", JSON.stringify({ certificate_action: "Install" })],
      ["no_such_command", "{}"],
    ] as const) {
      const m = await ask(name, payload);
      const http = await srv.fetch(`/api/v1/evses/1/commands/${name}`, { method: "POST", headers: { "content-type": "application/json" }, body: payload });
      expect(http.status).toBeGreaterThanOrEqual(400);
      expect(m.json).toEqual(await http.json());
      expect(typeof m.json.error).toBe("string");
    }
    expect((await srv.get("/api/v1/evses/1/status")).body).toMatchObject({ enabled: true, errors: [] });

    // MQTT 5 request/response.
    const responseTopic = `audit/reply/${crypto.randomUUID()}`;
    const answers = await watching(broker, [responseTopic]);
    const correlationData = Buffer.from("corr-42");
    await live.publish(`${base}/get_evse`, "{}", { properties: { responseTopic, correlationData } });
    const reply = await answers.waitFor((m) => m.topic === responseTopic, 5000, "answer on the response topic");
    expect(reply.json).toEqual(r.json);
    expect(reply.correlationData?.toString()).toBe("corr-42");
    // A command for an EVSE index that does not exist is answered as HTTP answers it.
    const none = next(live, `${P}/evse/7/cmd/get_evse/result`, "unknown EVSE");
    await live.publish(`${P}/evse/7/cmd/get_evse`, "{}");
    expect((await none()).json).toEqual((await srv.post("/api/v1/evses/7/commands/get_evse", {})).body);
    const noControl = next(live, `${P}/evse/7/control/result`, "unknown EVSE (control)");
    await live.publish(`${P}/evse/7/control/enabled/set`, "OFF");
    expect((await noControl()).json.error).toBe("unknown_evse");
  }, 30_000);

  test("§3 control/set and control/<field>/set: plain values take effect as PUT …/control; bad ones change nothing", async () => {
    const status = async () => (await srv.get("/api/v1/evses/1/status")).body;
    const send = async (topic: string, payload: string) => {
      const got = next(live, `${P}/evse/1/control/result`, `result of ${topic} ${payload}`);
      await live.publish(`${P}/evse/1/${topic}`, payload);
      return (await got()).json;
    };
    for (const [payload, enabled] of [["OFF", false], ["ON", true], ["false", false], ["true", true]] as const) {
      const res = await send("control/enabled/set", payload);
      expect(res.result.enabled).toBe(enabled);
      expect((await status()).enabled).toBe(enabled);
    }
    for (const [payload, max] of [["0", 0], ["6", 6], ["16", 16], ["32", 32]] as const) {
      expect((await send("control/max_current_A/set", payload)).result.max_current_A).toBe(max);
      expect((await status()).max_current_A).toBe(max);
    }
    for (const [payload, phases] of [["1", 1], ["3", 3]] as const) {
      expect((await send("control/phases/set", payload)).result.phases).toBe(phases);
      expect((await status()).phases).toBe(phases);
    }
    const all = await send("control/set", JSON.stringify({ enabled: true, max_current_A: 12, phases: 1 }));
    expect(all.result).toMatchObject({ evse: 1, enabled: true, max_current_A: 12, phases: 1 });
    expect(Object.keys(all.result).sort()).toEqual([...Object.keys(await status()), "evse"].sort());

    // Refusals: the HTTP error body of the same control body; nothing changes.
    const before = await status();
    for (const [field, payload, body] of [
      ["max_current_A", "3", { max_current_A: 3 }],
      ["max_current_A", "33", { max_current_A: 33 }],
      ["phases", "2", { phases: 2 }],
    ] as const) {
      const res = await send(`control/${field}/set`, payload);
      const http = await srv.fetch("/api/v1/evses/1/control", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      expect(http.status).toBe(400);
      expect(res).toEqual(await http.json());
    }
    for (const [topic, payload, error] of [["control/enabled/set", "maybe", "invalid_body"], ["control/set", "{", "invalid_json"], ["control/set", JSON.stringify({ max_current_A: "16" }), "invalid_body"]]) {
      expect((await send(topic!, payload!)).error).toBe(error!);
    }
    // (errors and the meter are left out: they are not the control's, and a loaded test machine can
    // make the real-time worker miss a heartbeat.)
    const controlled = (x: any) => ({ enabled: x.enabled, max_current_A: x.max_current_A, phases: x.phases, local_limit_A: x.local_limit_A, state: x.state });
    expect(controlled(await status())).toEqual(controlled(before));
    await send("control/set", JSON.stringify({ max_current_A: 32, phases: 3 }));
  }, 30_000);

  test("§4 discovery: every entity with HA's keys; value_templates extract the right field of a real status", async () => {
    const configs = configsOf(live);
    const entities = [...configs.keys()].map((t) => t.split("/"));
    for (const parts of entities) {
      expect(parts.length).toBe(5);
      expect(parts[0]).toBe("homeassistant");
      expect(parts[2]).toBe(nodeId);
      expect(parts[4]).toBe("config");
    }
    const status = (i: number) => live.on(`${P}/evse/${i}/status`).at(-1)!.json;
    for (const i of [1, 2]) {
      const mine = [...configs.values()].filter((m) => m.json.device.identifiers.includes(two[i - 1]!.evse_id));
      const by = (component: string, pred: (c: any) => boolean) => {
        const found = mine.filter((m) => m.topic.startsWith(`homeassistant/${component}/`) && pred(m.json));
        expect(found.length, `${component} of EVSE ${i}`).toBe(1);
        return found[0]!.json;
      };
      for (const m of mine) {
        expect(m.retain).toBe(true);
        expect(m.json.availability_topic ?? m.json.availability?.[0]?.topic).toBe(`${P}/availability`);
        expect(typeof m.json.unique_id).toBe("string");
        expect(typeof m.json.name).toBe("string");
        if (m.json.state_topic !== undefined) expect(m.json.state_topic).toBe(`${P}/evse/${i}/status`);
      }
      const s = status(i);
      const t = (c: any) => render(c.value_template, s);
      const sensor = (dc: string | undefined, field: (s: any) => unknown, unit?: string) =>
        by("sensor", (c) => c.device_class === dc && c.unit_of_measurement === unit && (() => { try { return t(c) === String(field(s)); } catch { return false; } })());
      const state = sensor("enum", (x) => x.state);
      expect(state.options).toEqual(expect.arrayContaining(STATES));
      expect(sensor("power", (x) => x.power_W, "W").state_class).toBe("measurement");
      const energies = mine.filter((m) => m.json.device_class === "energy");
      expect(energies.map((m) => m.json.value_template).sort()).toEqual(["{{ value_json.session_energy_Wh }}", "{{ value_json.total_energy_Wh }}"]);
      expect(energies.every((m) => m.json.unit_of_measurement === "Wh")).toBe(true);
      expect(energies.find((m) => m.json.value_template.includes("total_energy"))!.json.state_class).toBe("total_increasing");
      for (const l of ["L1", "L2", "L3"]) {
        const cur = mine.filter((m) => m.json.device_class === "current" && m.topic.includes("/sensor/") && m.json.value_template === `{{ value_json.current_A.${l} }}`);
        const volt = mine.filter((m) => m.json.device_class === "voltage" && m.json.value_template === `{{ value_json.voltage_V.${l} }}`);
        expect(cur.map((m) => m.json.unit_of_measurement)).toEqual(["A"]);
        expect(volt.map((m) => m.json.unit_of_measurement)).toEqual(["V"]);
        expect(render(volt[0]!.json.value_template, s)).toBe(String(s.voltage_V[l]));
      }
      const onOff = (b: boolean) => (b ? "ON" : "OFF");
      for (const [dc, field] of [["plug", "plugged"], ["battery_charging", "charging"]] as const) {
        const c = by("binary_sensor", (x) => x.device_class === dc);
        expect(t(c)).toBe(c[`payload_${s[field] ? "on" : "off"}`] ?? onOff(s[field]));
      }
      const problem = by("binary_sensor", (x) => x.device_class === "problem");
      expect(t(problem)).toBe(problem.payload_off ?? "OFF");
      expect(render(problem.value_template, { ...s, errors: ["evse_manager/MREC2GroundFailure"] })).toBe(problem.payload_on ?? "ON");

      const sw = by("switch", () => true);
      expect(sw.command_topic).toBe(`${P}/evse/${i}/control/enabled/set`);
      expect(t(sw)).toBe(s.enabled ? (sw.state_on ?? sw.payload_on ?? "ON") : (sw.state_off ?? sw.payload_off ?? "OFF"));
      const num = by("number", () => true);
      expect(num).toMatchObject({ command_topic: `${P}/evse/${i}/control/max_current_A/set`, min: 0, max: i === 1 ? 32 : 20, unit_of_measurement: "A" });
      expect(num.step ?? 1).toBe(1);
      expect(Number(t(num))).toBe(s.max_current_A);
      const sel = by("select", () => true);
      expect(sel).toMatchObject({ command_topic: `${P}/evse/${i}/control/phases/set`, options: ["1", "3"] });
      expect(sel.options).toContain(t(sel));
      const buttons = mine.filter((m) => m.topic.startsWith("homeassistant/button/")).map((m) => m.json.command_topic).sort();
      expect(buttons).toEqual([`${P}/evse/${i}/cmd/pause_charging`, `${P}/evse/${i}/cmd/resume_charging`]);
      for (const b of mine.filter((m) => m.topic.startsWith("homeassistant/button/"))) expect(() => JSON.parse(b.json.payload_press ?? "PRESS")).not.toThrow();
      expect(new Set(mine.map((m) => m.json.device.name)).size).toBe(1);
    }
    expect(new Set([...configs.values()].map((m) => m.json.unique_id)).size).toBe(configs.size);
  }, 20_000);

  test("§4 the enum sensor lists every state the status shows, also SwitchPhases during a phase switch", async () => {
    const state = [...configsOf(live).values()].find((m) => m.topic.startsWith("homeassistant/sensor/") && m.json.device_class === "enum" && m.json.device.identifiers.includes("DE*AUD*E1"))!.json;
    const reset = await srv.fetch("/api/v1/evses/1/control", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ enabled: true, max_current_A: 32, phases: 3 }) });
    expect(reset.status).toBe(200);
    expect((await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE })).status).toBe(202);
    await live.waitFor((m) => m.topic === `${P}/evse/1/status` && m.json.charging === true, 10_000, "charging");
    await live.publish(`${P}/evse/1/control/phases/set`, "1");
    await live.waitFor((m) => m.topic === `${P}/evse/1/status` && m.json.phases === 1 && m.json.charging === true, 10_000, "charging on one phase");
    const seen = new Set(live.on(`${P}/evse/1/status`).map((m) => m.json.state as string));
    expect(seen.has("SwitchPhases")).toBe(true);
    for (const s of seen) expect(state.options).toContain(render(state.value_template, { state: s }));
    expect((await srv.post("/api/v1/evses/1/sim/car", { script: "unplug", replace: true })).status).toBe(202);
    await live.publish(`${P}/evse/1/control/phases/set`, "3");
  }, 25_000);

  test("§4 the HA number: 1…5 A are refused on control/result and change nothing; the button pauses", async () => {
    const num = [...configsOf(live).values()].find((m) => m.topic.startsWith("homeassistant/number/") && m.json.device.identifiers.includes("DE*AUD*E2"))!.json;
    const before = (await srv.get("/api/v1/evses/2/status")).body.max_current_A;
    const res = next(live, `${P}/evse/2/control/result`, "refusal");
    await live.publish(num.command_topic, "3");
    expect((await res()).json.error).toBe("invalid_body");
    expect((await srv.get("/api/v1/evses/2/status")).body.max_current_A).toBe(before);
    const pause = [...configsOf(live).values()].find((m) => m.topic.endsWith("/config") && m.json.command_topic === `${P}/evse/2/cmd/pause_charging`)!.json;
    const answered = next(live, `${P}/evse/2/cmd/pause_charging/result`, "pause result");
    await live.publish(pause.command_topic, pause.payload_press ?? "PRESS");
    expect((await answered()).json).toEqual((await srv.post("/api/v1/evses/2/commands/pause_charging", {})).body);
  }, 15_000);

  test("§4 HA's birth message on homeassistant/status brings every config again", async () => {
    const before = live.messages.length;
    await live.publish("homeassistant/status", "online");
    await live.waitFor((m) => live.messages.indexOf(m) >= before && m.topic.startsWith("homeassistant/button/") && m.json?.command_topic === `${P}/evse/2/cmd/resume_charging`, 5000, "re-announcement");
    await Bun.sleep(300);
    const again = new Set(live.messages.slice(before).filter((m) => m.topic.startsWith("homeassistant/") && m.topic.endsWith("/config")).map((m) => m.topic));
    expect([...again].sort()).toEqual([...configsOf(live).keys()].sort());
  }, 10_000);

  test("§3 clean shutdown publishes offline (retained); §4 a restart without EVSE 2 clears its configs", async () => {
    const ev2 = [...configsOf(live).values()].filter((m) => m.text !== "" && m.json.device.identifiers.includes("DE*AUD*E2")).map((m) => m.topic);
    expect(ev2.length).toBeGreaterThanOrEqual(17);
    const offline = next(live, `${P}/availability`, "offline", (m) => m.text === "offline");
    await srv.stop();
    expect((await offline()).retain).toBe(true);

    srv = await start({ storage: storage(), evses: [two[0]], mqtt: mqttDefaults() });
    await until("EVSE 2 configs cleared", async () => ev2.filter((t) => live.on(t).at(-1)?.text === ""), (cleared) => cleared.length === ev2.length);
    for (const t of ev2) expect(live.on(t).at(-1)!.retain).toBe(true);
    const fresh = await watching(broker, ["homeassistant/#"]);
    await fresh.waitFor((m) => m.json?.command_topic === `${P}/evse/1/cmd/resume_charging`, 5000, "EVSE 1 still announced");
    await Bun.sleep(300);
    expect(fresh.messages.filter((m) => m.json?.device?.identifiers?.includes("DE*AUD*E2"))).toEqual([]);
  }, 30_000);

  test("§3 broker restart: charging goes on, the bridge reconnects and announces again; kill → last will offline", async () => {
    const events = srv.events();
    expect((await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE })).status).toBe(202);
    await events.waitFor((m) => m.event === "session_event" && m.data.event === "ChargingStarted", 10_000);
    await until("relays closed", () => srv.get("/api/v1/evses/1/sim"), (r) => r.body.relays_closed === true);
    await broker.kill();
    for (let k = 0; k < 10; k++) {
      expect((await srv.get("/api/v1/evses/1/sim")).body.relays_closed).toBe(true);
      await Bun.sleep(150);
    }
    await broker.start();
    const w = await watching(broker, [`${P}/#`, "homeassistant/#"]);
    expect((await w.waitFor((m) => m.topic === `${P}/availability`, 10_000, "availability again")).text).toBe("online");
    await w.waitFor((m) => m.topic === `${P}/evse/1/status` && m.json.charging === true, 5000, "status");
    await w.waitFor((m) => m.topic.startsWith("homeassistant/sensor/") && m.json?.device_class === "enum", 5000, "discovery again");
    const after = events.sessionEvents().slice(events.sessionEvents().lastIndexOf("ChargingStarted") + 1);
    expect(after).toEqual([]);
    events.close();

    // A crash (no DISCONNECT): the broker publishes the last will.
    const will = next(w, `${P}/availability`, "last will", (m) => m.text === "offline", 8000);
    await srv.stop("SIGKILL");
    expect((await will()).retain).toBe(true);
  }, 40_000);
});

describe("retained messages on the command and control topics", () => {
  test("a retained command or control value is acted on when published, never again from the broker's store at a (re)connect", async () => {
    const P = `auditRetain/${crypto.randomUUID().slice(0, 8)}`;
    const w = await watching(broker, [`${P}/#`]);
    await w.publish(`${P}/evse/1/control/enabled/set`, "OFF", { retain: true });
    await w.publish(`${P}/evse/1/cmd/get_evse`, "{}", { retain: true });
    const srv = await start({ mqtt: { url: broker.url, username: broker.username, password: broker.password, topic_prefix: P, homeassistant: { enabled: false } } });
    await w.waitFor((m) => m.topic === `${P}/evse/1/status`, 8000, "status");
    await until("the replays are logged", async () => srv.output.join("\n"), (out) => out.includes(`ignoring the retained message on ${P}/evse/1/cmd/get_evse`) && out.includes(`ignoring the retained message on ${P}/evse/1/control/enabled/set`));
    await Bun.sleep(500);
    expect((await srv.get("/api/v1/evses/1/status")).body.enabled).toBe(true);
    expect(w.on(`${P}/evse/1/cmd/get_evse/result`)).toEqual([]);
    // Published now (retained or not), it acts.
    await w.publish(`${P}/evse/1/control/enabled/set`, "OFF", { retain: true });
    await until("disabled", () => srv.get("/api/v1/evses/1/status"), (r) => r.body.enabled === false);
    await srv.stop();
  }, 20_000);
});

describe("MQTT 3.1.1 and TLS", () => {
  test("protocol_version 4: status, commands, control and the last will work", async () => {
    const P = `audit311/${crypto.randomUUID().slice(0, 8)}`;
    const srv = await start({ mqtt: { url: broker.url, username: broker.username, password: broker.password, topic_prefix: P, protocol_version: 4, homeassistant: { enabled: false } } });
    const w = await watching(broker, [`${P}/#`], { protocolVersion: 4 });
    expect((await w.waitFor((m) => m.topic === `${P}/availability`, 8000, "availability")).text).toBe("online");
    await w.waitFor((m) => m.topic === `${P}/evse/1/status`, 5000, "status");
    await w.publish(`${P}/evse/1/cmd/get_evse`, "{}");
    expect((await w.waitFor((m) => m.topic === `${P}/evse/1/cmd/get_evse/result`, 5000, "result")).json).toEqual((await srv.post("/api/v1/evses/1/commands/get_evse", {})).body);
    await w.publish(`${P}/evse/1/control/max_current_A/set`, "8");
    await until("max 8", () => srv.get("/api/v1/evses/1/status"), (r) => r.body.max_current_A === 8);
    const will = next(w, `${P}/availability`, "last will", (m) => m.text === "offline", 8000);
    await srv.stop("SIGKILL");
    await will();
    const late = await watching(broker, [`${P}/availability`], { protocolVersion: 4 });
    const m = await late.waitFor(() => true, 5000, "retained availability");
    expect(m.text).toBe("offline");
    expect(m.retain).toBe(true);
  }, 30_000);

  test("mqtts with mqtt.ca_file connects with user name and password; without the CA it does not", async () => {
    const tls = await startMosquitto({ tls: true });
    try {
      const P = `auditTLS/${crypto.randomUUID().slice(0, 8)}`;
      const base = { url: tls.url, username: tls.username, password: tls.password, topic_prefix: P, homeassistant: { enabled: false } };
      const good = await start({ mqtt: { ...base, ca_file: tls.caFile } });
      const w = await watching(tls, [`${P}/#`]);
      expect((await w.waitFor((m) => m.topic === `${P}/availability`, 8000, "availability over TLS")).text).toBe("online");
      await w.publish(`${P}/evse/1/cmd/get_evse`, "{}");
      expect((await w.waitFor((m) => m.topic === `${P}/evse/1/cmd/get_evse/result`, 5000, "result")).json.result.id).toBe(1);
      await good.stop();

      const other = await watching(tls, [`${P}x/#`]);
      const noCa = await start({ mqtt: { ...base, topic_prefix: `${P}x` } });
      await Bun.sleep(1500);
      expect(other.messages).toEqual([]);
      expect(parsePrometheus((await noCa.get("/metrics")).body).get("evse_mqtt_connected")?.samples[0]?.value).toBe(0);
      expect(noCa.output.join("\n")).toMatch(/WARNING MQTT: .*(certificate|self.signed)/i);
      await noCa.stop();
    } finally {
      await tls.stop();
    }
  }, 30_000);
});
