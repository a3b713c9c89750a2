// docs/evcc.md's charger definition, executed: the YAML is read from the document itself, and each
// of its http plugins is run the way evcc's http plugin runs it (method, headers, body with
// ${param} filled in, the answer through jq with `%v` formatting = `jq -r`, then scale) against
// the real program. So the document and the product cannot drift apart.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { startServer, type TestServer } from "./helpers/server.ts";
import { until } from "./helpers/until.ts";

const DOC = readFileSync(join(import.meta.dir, "..", "docs", "evcc.md"), "utf8");
const PLACEHOLDER_URL = "http://evse-manager.local:8080";
const PLACEHOLDER_TOKEN = "change-me";
const PLUG_CHARGE = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000";

interface HttpPlugin {
  source: string;
  uri: string;
  method?: string;
  headers?: Record<string, string>[] | Record<string, string>;
  body?: string;
  jq?: string;
  scale?: number;
}

function chargerDefinition(): Record<string, unknown> {
  const block = /```yaml\n([\s\S]*?)```/.exec(DOC);
  if (!block) throw new Error("docs/evcc.md has no yaml block");
  const doc = parse(block[1]!) as { chargers: Record<string, unknown>[]; loadpoints: { charger: string }[] };
  expect(doc.chargers.length).toBe(1);
  expect(doc.loadpoints[0]!.charger).toBe(doc.chargers[0]!.name as string);
  return doc.chargers[0]!;
}

let srv: TestServer;
let charger: Record<string, unknown>;

beforeAll(async () => {
  charger = chargerDefinition();
  srv = await startServer({ exe: "binary", config: { disable_authentication: true }, env: { EVSE_API_TOKEN: PLACEHOLDER_TOKEN }, waitReady: true });
});
afterAll(async () => {
  await srv?.stop();
});

/** `jq -r`: evcc formats the jq result with Go's %v, which prints strings without quotes. */
async function jq(expr: string, input: string): Promise<string> {
  const p = Bun.spawn(["jq", "-r", expr], { stdin: new Blob([input]), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`jq ${expr}: ${err}`);
  return out.trim();
}

/** One run of an evcc http plugin: a getter (no param) or a setter with its ${param} value. */
async function run(plugin: HttpPlugin, param?: [string, number | boolean]): Promise<string> {
  expect(plugin.source).toBe("http");
  expect(plugin.uri.startsWith(PLACEHOLDER_URL)).toBe(true);
  const fill = (s: string) => (param ? s.replace(new RegExp(`\\$\\{${param[0]}(:[^}]*)?\\}`, "g"), String(param[1])) : s);
  let method = (plugin.method ?? "GET").toUpperCase();
  if (plugin.body && method === "GET") method = "POST"; // evcc: a body turns GET into POST
  const headers: Record<string, string> = Array.isArray(plugin.headers) ? Object.assign({}, ...plugin.headers) : { ...(plugin.headers ?? {}) };
  const res = await fetch(fill(plugin.uri).replace(PLACEHOLDER_URL, srv.url), {
    method,
    headers,
    body: method === "GET" ? undefined : fill(plugin.body ?? ""),
  });
  const text = await res.text();
  // evcc treats any status outside 2xx as an error of the plugin.
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${plugin.uri} → ${res.status}: ${text}`);
  if (!param && plugin.jq === undefined) throw new Error(`getter ${plugin.uri} has no jq`);
  return plugin.jq === undefined ? text : jq(plugin.jq, text);
}

const get = (key: string) => run(charger[key] as HttpPlugin);
const getFloat = async (key: string) => Number(await get(key)) * ((charger[key] as HttpPlugin).scale ?? 1);
const getPhases = (key: string) => Promise.all((charger[key] as HttpPlugin[]).map(async (p) => Number(await run(p)) * (p.scale ?? 1)));
const set = (key: string, param: string, value: number | boolean) => run(charger[key] as HttpPlugin, [param, value]);

describe("evcc custom charger (docs/evcc.md)", () => {
  test("the definition is the evcc custom type with every getter and setter the integration needs", () => {
    expect(charger.type).toBe("custom");
    for (const key of ["status", "enabled", "enable", "maxcurrent", "phases1p3p", "power", "energy", "identify"]) expect(charger).toHaveProperty(key);
    expect((charger.currents as unknown[]).length).toBe(3);
    expect((charger.voltages as unknown[]).length).toBe(3);
    expect(charger.tos).toBe(true); // evcc refuses phases1p3p without it
  });

  test("an idle charger: status A, enabled, meter readings, no id", async () => {
    expect(await get("status")).toBe("A");
    expect(await get("enabled")).toBe("true");
    expect(await getFloat("power")).toBe(0);
    expect(await getFloat("energy")).toBeGreaterThanOrEqual(0);
    expect((await getPhases("voltages")).every((v) => v > 200 && v < 260)).toBe(true);
    expect(await getPhases("currents")).toEqual([0, 0, 0]);
    expect(await get("identify")).toBe("");
  });

  test("evcc's setters: disable/enable, the current limit, the phase count", async () => {
    await set("enable", "enable", false);
    expect(await get("enabled")).toBe("false");
    await set("enable", "enable", true);
    expect(await get("enabled")).toBe("true");

    await set("maxcurrent", "maxcurrent", 10);
    expect((await srv.get("/api/v1/evses/1/status")).body.max_current_A).toBe(10);
    await set("phases1p3p", "phases", 1);
    expect((await srv.get("/api/v1/evses/1/status")).body.phases).toBe(1);
    await set("phases1p3p", "phases", 3);
    await set("maxcurrent", "maxcurrent", 16);
    expect((await srv.get("/api/v1/evses/1/status")).body.max_current_A).toBe(16);
  });

  test("a car charges under evcc's limit: status C, power, currents, the session's id; maxcurrent 0 pauses and keeps the session", async () => {
    expect((await srv.post("/api/v1/evses/1/sim/car", { script: PLUG_CHARGE })).status).toBe(202);
    await until("status C", () => get("status"), (s) => s === "C");
    const currents = await until("currents near 16 A", () => getPhases("currents"), (c) => c.every((a) => a > 14 && a < 17));
    expect(currents.length).toBe(3);
    expect(await getFloat("power")).toBeGreaterThan(3 * 200 * 14);
    expect(await get("identify")).not.toBe("");

    const session = (await srv.get("/api/v1/evses/1/status")).body.session_uuid;
    await set("maxcurrent", "maxcurrent", 0);
    const paused = await until("paused", async () => (await srv.get("/api/v1/evses/1/status")).body, (s) => s.state === "WaitingForEnergy");
    expect(paused.session_uuid).toBe(session);
    expect(paused.offered_current_A).toBe(0);
    await set("maxcurrent", "maxcurrent", 16);
    await until("charging again", () => get("status"), (s) => s === "C");
    expect((await srv.get("/api/v1/evses/1/status")).body.session_uuid).toBe(session);
  }, 30_000);
});
