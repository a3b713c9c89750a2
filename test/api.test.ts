import { describe, expect, test } from "bun:test";
import { effectiveToken } from "../api/index.ts";
import { COMMAND_NAMES, VARIABLE_NAMES } from "../core/kernel-api.ts";
import { harness, post } from "./api-fakes.ts";

const E = "/api/v1/evses/1";
const TOKEN_A = { id_token: { value: "RFID0001", type: "ISO14443" }, authorization_type: "RFID" };

async function expectError(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/json");
  const body = (await res.json()) as { error: unknown; message: unknown; details: unknown };
  expect(typeof body.error).toBe("string");
  expect(typeof body.message).toBe("string");
  expect(Array.isArray(body.details)).toBe(true);
  return body as { error: string; message: string; details: { path: string; message: string }[] };
}

describe("healthz", () => {
  test("answers ok with version and uptime when the worker runs and the board answers", async () => {
    const h = harness();
    const res = await h.app.request("/healthz");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.status).toBe("ok");
    expect(body.version).toBe("9.9.9");
    expect(typeof body.uptime_s).toBe("number");
  });

  test("answers 503 with a status other than ok when the board does not answer", async () => {
    const h = harness();
    h.health.board_answering = false;
    const res = await h.app.request("/healthz");
    expect(res.status).toBe(503);
    expect(((await res.json()) as { status: string }).status).not.toBe("ok");
  });

  test("answers 503 when the real-time worker is not running", async () => {
    const h = harness();
    h.health.worker_running = false;
    expect((await h.app.request("/healthz")).status).toBe(503);
  });

  test("needs no token even when one is configured", async () => {
    const h = harness({ token: "s3cret" });
    expect((await h.app.request("/healthz")).status).toBe(200);
  });
});

describe("authentication", () => {
  test("a missing token is a 401 before the unknown-EVSE 404", async () => {
    const h = harness({ token: "s3cret" });
    await expectError(await h.app.request("/api/v1/evses/7/vars"), 401);
  });

  test("a wrong token is a 401 before the body is even looked at", async () => {
    const h = harness({ token: "s3cret" });
    const res = await h.app.request(`${E}/commands/pause_charging`, post("{broken", { authorization: "Bearer nope" }));
    await expectError(res, 401);
    expect(h.kernel.calls).toEqual([]);
  });

  test("an unknown /api/ route without token is a 401, not a 404", async () => {
    const h = harness({ token: "s3cret" });
    await expectError(await h.app.request("/api/v2/whatever"), 401);
  });

  test("the right bearer token is let through", async () => {
    const h = harness({ token: "s3cret" });
    const res = await h.app.request(`${E}/vars`, { headers: { authorization: "Bearer s3cret" } });
    expect(res.status).toBe(200);
  });

  test("the environment variable wins over the config and an empty value counts as not set", () => {
    expect(effectiveToken("cfg", "env")).toBe("env");
    expect(effectiveToken("cfg", "")).toBe("cfg");
    expect(effectiveToken("", undefined)).toBeNull();
    expect(effectiveToken(undefined, undefined)).toBeNull();
  });
});

describe("routing errors", () => {
  test("an unknown route is a 404 with the error body", async () => {
    const h = harness();
    await expectError(await h.app.request("/nope"), 404);
    await expectError(await h.app.request("/api/v1/evses/1/nope"), 404);
  });

  test("a wrong method on a known route is a 405 with the error body", async () => {
    const h = harness();
    for (const [method, path] of [
      ["GET", `${E}/commands/pause_charging`],
      ["POST", `${E}/vars`],
      ["DELETE", `${E}/vars/ready`],
      ["POST", `${E}/events`],
      ["GET", `${E}/energy/enforce_limits`],
      ["PUT", `${E}/sim/car`],
      ["POST", "/healthz"],
      ["POST", "/api/v1/evses"],
    ] as const) {
      const body = await expectError(await h.app.request(path, { method }), 405);
      expect(body.error).toBe("method_not_allowed");
    }
    expect(h.kernel.calls).toEqual([]);
  });

  test("an EVSE index that does not exist is a 404 naming it", async () => {
    const h = harness();
    for (const i of ["2", "0", "abc", "01"]) {
      const body = await expectError(await h.app.request(`/api/v1/evses/${i}/commands/pause_charging`, post({})), 404);
      expect(body.message).toContain(i);
    }
    expect(h.kernel.calls).toEqual([]);
  });
});

describe("evses and variables", () => {
  test("GET evses lists each EVSE with its index, evse_id and the connectors of get_evse", async () => {
    const h = harness();
    h.pubs.publish("evse_id", "DE*PNX*E1234567*1");
    const res = await h.app.request("/api/v1/evses");
    expect(await res.json()).toEqual([{ index: 1, evse_id: "DE*PNX*E1234567*1", connectors: [{ id: 1, type: "Unknown" }] }]);
  });

  test("GET vars has all 14 variables, null until published, then the last value", async () => {
    const h = harness();
    let body = (await (await h.app.request(`${E}/vars`)).json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([...VARIABLE_NAMES].sort());
    expect(Object.values(body).every((x) => x === null)).toBe(true);
    h.pubs.publish("ready", false);
    h.pubs.publish("ready", true);
    body = (await (await h.app.request(`${E}/vars`)).json()) as Record<string, unknown>;
    expect(body.ready).toBe(true);
  });

  test("GET vars/{name} is the bare value, null if never published, 404 for a non-variable", async () => {
    const h = harness();
    expect(await (await h.app.request(`${E}/vars/limits`)).json()).toBeNull();
    h.pubs.publish("limits", { uuid: "n", max_current: 32, nr_of_phases_available: 3 });
    expect(await (await h.app.request(`${E}/vars/limits`)).json()).toEqual({ uuid: "n", max_current: 32, nr_of_phases_available: 3 });
    h.pubs.publish("selected_protocol", "Unknown");
    expect(await (await h.app.request(`${E}/vars/selected_protocol`)).json()).toBe("Unknown");
    const err = await expectError(await h.app.request(`${E}/vars/not_a_var`), 404);
    expect(err.message).toContain("not_a_var");
  });

  test("GET errors returns the kernel's active errors", async () => {
    const h = harness();
    const active = { type: "evse_manager/MREC5OverVoltage", sub_type: "", message: "m", severity: "High" as const, state: "Active" as const, timestamp: "2025-01-01T00:00:00Z", uuid: "u" };
    h.kernel.activeErrors = [active];
    expect(await (await h.app.request(`${E}/errors`)).json()).toEqual([active]);
  });
});

describe("commands", () => {
  test("a command is called with its validated arguments and answers {result}", async () => {
    const h = harness();
    const res = await h.app.request(`${E}/commands/pause_charging`, post({}));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: true });
    const args = { provided_token: TOKEN_A, validation_result: { authorization_status: "Accepted" } };
    const res2 = await h.app.request(`${E}/commands/authorize_response`, post(args));
    expect(await res2.json()).toEqual({ result: null });
    expect(h.kernel.calls).toEqual([
      { name: "pause_charging", args: {} },
      { name: "authorize_response", args },
    ]);
  });

  test("no body, and application/json with a charset, are accepted", async () => {
    const h = harness();
    expect((await h.app.request(`${E}/commands/pause_charging`, { method: "POST" })).status).toBe(200);
    const withCharset = { method: "POST", headers: { "content-type": "application/json; charset=utf-8" }, body: "{}" };
    expect((await h.app.request(`${E}/commands/pause_charging`, withCharset)).status).toBe(200);
    const noType = { method: "POST", body: new TextEncoder().encode("{}") };
    expect((await h.app.request(`${E}/commands/pause_charging`, noType)).status).toBe(200);
    expect(h.kernel.calls.length).toBe(3);
  });

  test("every command name of the interface is routed", async () => {
    const h = harness();
    for (const name of COMMAND_NAMES) {
      const res = await h.app.request(`${E}/commands/${name}`, post({}));
      expect([200, 400]).toContain(res.status);
    }
  });

  test("bad input is refused with the contract's status and never reaches the kernel", async () => {
    const h = harness();
    const src = { enable_source: "CSMS", enable_state: "Disable", enable_priority: 100 };
    const cases: [string, RequestInit, number][] = [
      ["enable_disable", post({ connector_id: "0", cmd_source: src }), 400],
      ["enable_disable", post({ connector_id: 0 }), 400],
      ["enable_disable", post({ connector_id: 0, cmd_source: { ...src, enable_state: "Off" } }), 400],
      ["enable_disable", post({ connector_id: 0, cmd_source: { ...src, enable_priority: 10001 } }), 400],
      ["enable_disable", post({ connector_id: 0.5, cmd_source: src }), 400],
      ["reserve", post({}), 400],
      ["reserve", post({ reservation_id: "5" }), 400],
      ["reserve", post({ reservation_id: 5, extra: true }), 400],
      ["pause_charging", post({ now: true }), 400],
      ["frobnicate", post({}), 404],
      ["stop_transaction", post({ request: { reason: "Bogus" } }), 400],
      ["stop_transaction", post({ request: {} }), 400],
      ["stop_transaction", post({}), 400],
      ["authorize_response", post({ provided_token: { ...TOKEN_A, id_token: { value: "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789X", type: "ISO14443" } }, validation_result: { authorization_status: "Accepted" } }), 400],
      ["authorize_response", post({ provided_token: { ...TOKEN_A, color: "red" }, validation_result: { authorization_status: "Accepted" } }), 400],
      ["authorize_response", post({ provided_token: TOKEN_A, validation_result: {} }), 400],
      ["force_unlock", post({ connector_id: true }), 400],
      ["stop_transaction", post('{"request": {"reason": "Local"'), 400],
      ["pause_charging", { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" }, 415],
      ["reserve", post(JSON.stringify({ reservation_id: 5, pad: "x".repeat(70_000) })), 413],
      ["pause_charging", post("[1,2]"), 400],
      ["pause_charging", post("null"), 400],
    ];
    for (const [name, init, status] of cases) {
      await expectError(await h.app.request(`${E}/commands/${name}`, init), status);
    }
    expect(h.kernel.calls).toEqual([]);
  });

  test("an undeclared argument is named in the details", async () => {
    const h = harness();
    const body = await expectError(await h.app.request(`${E}/commands/reserve`, post({ reservation_id: 5, extra: true })), 400);
    expect(body.details.map((d) => d.path)).toContain("extra");
  });

  test("a wrongly typed nested field is named by its path", async () => {
    const h = harness();
    const body = await expectError(
      await h.app.request(`${E}/commands/enable_disable`, post({ connector_id: 0, cmd_source: { enable_source: "CSMS", enable_state: "Off", enable_priority: 1 } })),
      400,
    );
    expect(body.details.map((d) => d.path)).toContain("cmd_source.enable_state");
  });

  test("the size limit is checked before the content type", async () => {
    const h = harness();
    const res = await h.app.request(`${E}/commands/reserve`, { method: "POST", headers: { "content-type": "text/plain" }, body: "x".repeat(70_000) });
    await expectError(res, 413);
  });

  test("a body of exactly 64 KiB is still read", async () => {
    const h = harness();
    const pad = "x".repeat(64 * 1024 - '{"reservation_id":5,"pad":""}'.length);
    const res = await h.app.request(`${E}/commands/reserve`, post(JSON.stringify({ reservation_id: 5, pad })));
    const body = await expectError(res, 400); // parsed, then refused for the undeclared "pad"
    expect(body.details.map((d) => d.path)).toContain("pad");
  });

  test("until the kernel has started, commands are 409 except get_evse and external_ready_to_start_charging", async () => {
    const h = harness();
    h.kernel.isStarted = false;
    const body = await expectError(await h.app.request(`${E}/commands/pause_charging`, post({})), 409);
    expect(body.error).toBe("not_started");
    expect((await h.app.request(`${E}/commands/get_evse`, post({}))).status).toBe(200);
    expect((await h.app.request(`${E}/commands/external_ready_to_start_charging`, post({}))).status).toBe(200);
  });

  test("argument validation comes before the not-started 409", async () => {
    const h = harness();
    h.kernel.isStarted = false;
    await expectError(await h.app.request(`${E}/commands/reserve`, post({})), 400);
  });
});

describe("energy", () => {
  const valid = { uuid: "node", valid_until: "2099-01-01T00:00:00Z", limits_root_side: { ac_max_current_A: 16 } };

  test("enforce_limits hands the validated limits to the kernel and answers {result: null}", async () => {
    const h = harness();
    const res = await h.app.request(`${E}/energy/enforce_limits`, post(valid));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: null });
    expect(h.kernel.limits).toEqual([valid]);
  });

  test("invalid limits are a 400 and are not applied", async () => {
    const h = harness();
    for (const body of [
      { uuid: "node", limits_root_side: { ac_max_current_A: 0 } },
      { ...valid, valid_until: "tomorrow" },
      { ...valid, limits_root_side: { ac_max_phase_count: 4 } },
      { ...valid, limits_root_side: { ac_max_current_A: "16" } },
    ]) {
      await expectError(await h.app.request(`${E}/energy/enforce_limits`, post(body)), 400);
    }
    expect(h.kernel.limits).toEqual([]);
  });
});

describe("simulated board", () => {
  test("GET sim shows the board state", async () => {
    const h = harness();
    const body = (await (await h.app.request(`${E}/sim`)).json()) as { cp_state: string; car: { running: boolean } };
    expect(body.cp_state).toBe("A");
    expect(body.car.running).toBe(false);
  });

  test("on a real board every sim route is a 409", async () => {
    const h = harness({ simulated: false });
    await expectError(await h.app.request(`${E}/sim`), 409);
    await expectError(await h.app.request(`${E}/sim/car`, post({ script: "unplug" })), 409);
    await expectError(await h.app.request(`${E}/sim/car`, { method: "DELETE" }), 409);
  });

  test("posting a script starts it with 202, a second one without replace is a 409, replace swaps it", async () => {
    const h = harness();
    const res = await h.app.request(`${E}/sim/car`, post({ script: "sleep 1;iec_wait_pwr_ready" }));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: true });
    await expectError(await h.app.request(`${E}/sim/car`, post({ script: "unplug" })), 409);
    await expectError(await h.app.request(`${E}/sim/car`, post({ script: "unplug", replace: false })), 409);
    expect(h.sim.script).toBe("sleep 1;iec_wait_pwr_ready");
    expect((await h.app.request(`${E}/sim/car`, post({ script: "unplug", replace: true }))).status).toBe(202);
    expect(h.sim.script).toBe("unplug");
  });

  test("a script that does not parse is a 400 naming the command, checked before the busy 409", async () => {
    const h = harness();
    h.sim.script = "sleep 36000";
    const body = await expectError(await h.app.request(`${E}/sim/car`, post({ script: "sleep 1;frobnicate 3" })), 400);
    expect(body.message + JSON.stringify(body.details)).toContain("frobnicate");
    expect(h.sim.script).toBe("sleep 36000");
  });

  test("the car body is strict: script required, replace boolean, nothing else", async () => {
    const h = harness();
    h.sim.script = "sleep 36000";
    for (const body of [{}, { script: 5 }, { script: "unplug", replace: "yes" }, { script: "unplug", color: "red" }]) {
      await expectError(await h.app.request(`${E}/sim/car`, post(body)), 400);
    }
    expect(h.sim.script).toBe("sleep 36000");
  });

  test("DELETE sim/car stops the script, also when none runs", async () => {
    const h = harness();
    h.sim.script = "sleep 36000";
    for (let n = 0; n < 2; n++) {
      const res = await h.app.request(`${E}/sim/car`, { method: "DELETE" });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ stopped: true });
    }
    expect(h.sim.script).toBeNull();
  });

  test("weld_relays can be switched at run time through sim/board", async () => {
    const h = harness();
    expect((await h.app.request(`${E}/sim/board`, post({ weld_relays: true }))).status).toBe(200);
    expect(h.sim.welded).toBe(true);
    await expectError(await h.app.request(`${E}/sim/board`, post({ weld_relays: 1 })), 400);
    expect(h.sim.welded).toBe(true);
  });
});

describe("metrics and openapi", () => {
  test("metrics count API requests and sessions in Prometheus text", async () => {
    const h = harness();
    h.pubs.onPublish((p) => h.ctx.metrics.publication(1, p));
    await h.app.request(`${E}/vars`);
    h.pubs.publish("session_event", { uuid: "s", event: "SessionStarted", timestamp: "2025-01-01T00:00:00Z" });
    h.ctx.metrics.boardInput(1, { kind: "event", event: "PowerOn" });
    const res = await h.app.request("/metrics");
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toContain('evse_api_requests_total{method="GET",route="/api/v1/evses/:i/vars",status="200"} 1');
    expect(text).toContain('evse_sessions_started_total{evse="1"} 1');
    expect(text).toContain('evse_relay_switches_total{evse="1"} 1');
    expect(text).toContain("# TYPE evse_api_request_duration_seconds histogram");
  });

  test("openapi.json is an OpenAPI 3.1 document with every route of the contract", async () => {
    const h = harness();
    const doc = (await (await h.app.request("/openapi.json")).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    for (const path of ["/healthz", "/metrics", "/api/v1/evses", "/api/v1/evses/{i}/vars", "/api/v1/evses/{i}/vars/{name}", ...COMMAND_NAMES.map((n) => `/api/v1/evses/{i}/commands/${n}`), "/api/v1/evses/{i}/events", "/api/v1/evses/{i}/errors", "/api/v1/evses/{i}/energy/enforce_limits", "/api/v1/evses/{i}/sim", "/api/v1/evses/{i}/sim/car"]) {
      expect(doc.paths[path]).toBeDefined();
    }
  });

  test("openapi.json describes command arguments with the schemas the server validates with", async () => {
    const h = harness();
    const doc = (await (await h.app.request("/openapi.json")).json()) as any;
    const reserve = doc.paths["/api/v1/evses/{i}/commands/reserve"].post.requestBody.content["application/json"].schema;
    expect(reserve).toEqual({ type: "object", properties: { reservation_id: { type: "integer" } }, required: ["reservation_id"], additionalProperties: false });
    const car = doc.paths["/api/v1/evses/{i}/sim/car"].post.requestBody.content["application/json"].schema;
    expect(car.required).toEqual(["script"]);
    expect(car.additionalProperties).toBe(false);
    expect(doc.components.schemas.EnforcedLimits.properties.valid_until).toEqual({ type: "string", format: "date-time" });
  });
});

describe("GET …/vars, answered ahead of the router (api/app.ts)", () => {
  test("the same answer and metrics label as the general route; refusals still come from the general way", async () => {
    const h = harness({ token: "s3cret" });
    h.pubs.publish("ready", true);
    const auth = { authorization: "Bearer s3cret" };
    const fast = await h.app.request(`${E}/vars`, { headers: auth });
    // A query (ignored by the route) sends the same request through Hono's router and middleware.
    const general = await h.app.request(`${E}/vars?via=router`, { headers: auth });
    expect(fast.status).toBe(200);
    expect(general.status).toBe(200);
    expect(fast.headers.get("content-type")).toBe(general.headers.get("content-type"));
    const body = await fast.text();
    expect(body).toBe(await general.text());
    expect(JSON.parse(body).ready).toBe(true);
    expect(h.ctx.metrics.render()).toContain('route="/api/v1/evses/:i/vars",status="200"} 2');
    await expectError(await h.app.request(`${E}/vars`), 401);
    await expectError(await h.app.request(`${E}/vars`, { headers: { authorization: "Bearer s3cre" } }), 401);
    await expectError(await h.app.request("/api/v1/evses/2/vars", { headers: auth }), 404);
    expect((await h.app.request(`${E}/vars`, { method: "HEAD", headers: auth })).status).toBe(200);
    await expectError(await h.app.request(`${E}/vars`, { method: "DELETE", headers: auth }), 405);
  });
});
