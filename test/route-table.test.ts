// The route table is the one declaration of the HTTP API: the app answers every declared method
// of every path, and 405 with `Allow` listing exactly the declared ones to any other; the
// OpenAPI document has one operation per declaration (one per command for the commands route).
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { COMMAND_NAMES } from "../core/kernel-api.ts";
import { mountRoutes, route, type Route } from "../api/route.ts";
import { ROUTES } from "../api/route-table.ts";
import { harness } from "./api-fakes.ts";

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"];
/** A concrete URL for a template: EVSE 1, a real variable, command or asset. */
const concrete = (path: string) => path.replace("{i}", "1").replace("vars/{name}", "vars/state").replace("commands/{name}", "commands/get_evse").replace("{name}", "app.js");

describe("route table", () => {
  test("every other method on a declared path is a 405 whose Allow lists the declared methods in order", async () => {
    const { app } = harness();
    const byPath = new Map<string, string[]>();
    for (const r of ROUTES) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r.method]);
    expect(byPath.get("/api/v1/evses/{i}/sim/car")).toEqual(["POST", "DELETE"]);
    for (const [path, declared] of byPath) {
      for (const method of METHODS.filter((m) => !declared.includes(m))) {
        const res = await app.request(concrete(path), { method });
        expect({ path, method, status: res.status, allow: res.headers.get("allow") }).toEqual({ path, method, status: 405, allow: declared.join(", ") });
        expect(((await res.json()) as { error: string }).error).toBe("method_not_allowed");
      }
    }
  });

  test("the OpenAPI document has exactly one operation per declaration", async () => {
    const { app } = harness();
    const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, { operationId: string }>> };
    const expected = ROUTES.flatMap((r) => (r.variants ? r.variants.each.map((x) => `${r.method} ${r.path.replace("{name}", x.value)}`) : [`${r.method} ${r.path}`])).sort();
    const actual = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    expect(actual).toEqual(expected);
    expect(expected.filter((op) => op.includes("/commands/")).length).toBe(COMMAND_NAMES.length);
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("a route declared twice, or a token route outside /api/, is refused when the app is built", () => {
    const { ctx } = harness();
    const one = route({ method: "GET", path: "/api/v1/x", operationId: "x", summary: "x", auth: true, responses: {}, handler: () => (c) => c.json(null) });
    expect(() => mountRoutes(new Hono(), [one, one], ctx)).toThrow("declared twice");
    const publicInApi: Route = { ...one, auth: false };
    expect(() => mountRoutes(new Hono(), [publicInApi], ctx)).toThrow("auth must be true exactly for /api/ routes");
  });

  test("a path parameter the schema refuses is a 404 naming it, after the EVSE check", async () => {
    const { app } = harness();
    const res = await app.request("/api/v1/evses/1/vars/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "not_found", message: '"nope" is not a variable of the evse_manager interface', details: [] });
    expect(((await (await app.request("/api/v1/evses/9/vars/nope")).json()) as { error: string }).error).toBe("unknown_evse");
  });
});
