// /openapi.json is a well-formed OpenAPI 3.1 document that describes every route of the HTTP
// contract (parsed from http-api.md's route table, so a route added there and not here fails) and
// every route the app really serves; /docs renders it as one self-contained page.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { COMMAND_NAMES } from "../core/kernel-api.ts";
import { harness } from "./api-fakes.ts";

// The spec lives in shared/ beside the checkout (CI clones main with shared/ next to it).
const SPEC_CANDIDATES = [join(import.meta.dir, "../../shared/spec/http-api.md"), "/work/shared/spec/http-api.md"];
const SPEC = SPEC_CANDIDATES.find((p) => existsSync(p)) ?? SPEC_CANDIDATES[0]!;
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

type Json = Record<string, unknown>;

/** `METHOD /path` of every row of the "## Routes" table. */
function specRoutes(markdown: string): { method: string; path: string }[] {
  const section = markdown.split(/^## Routes\s*$/m)[1]!.split(/^## /m)[0]!;
  const routes: { method: string; path: string }[] = [];
  for (const line of section.split("\n")) {
    const m = /^\|\s*`([A-Z]+) (\/[^`]*)`\s*\|/.exec(line);
    if (m) routes.push({ method: m[1]!.toLowerCase(), path: m[2]! });
  }
  return routes;
}

/** Template with parameter names erased: `/a/{i}/b` and `/a/{x}/b` are the same route. */
const shape = (path: string) => path.replace(/\{[^}]+\}/g, "{}");

/**
 * Whether the document has the route: the same template, or (the commands) one concrete path per
 * value of its last parameter, which must then be every command name.
 */
function covered(doc: Json, method: string, path: string): boolean {
  const paths = doc.paths as Record<string, Json>;
  if (Object.entries(paths).some(([p, item]) => shape(p) === shape(path) && item[method])) return true;
  const m = /^(.*)\/\{[^}]+\}$/.exec(path);
  if (!m) return false;
  const prefix = shape(m[1]!);
  const concrete = Object.entries(paths)
    .filter(([p, item]) => item[method] && shape(p).startsWith(prefix + "/") && !shape(p).slice(prefix.length + 1).includes("/"))
    .map(([p]) => p.slice(p.lastIndexOf("/") + 1));
  return concrete.length > 0 && COMMAND_NAMES.every((n) => concrete.includes(n));
}

// ---- a small OpenAPI 3.1 / JSON Schema 2020-12 checker ---------------------------------------

const JSON_TYPES = new Set(["null", "boolean", "object", "array", "number", "string", "integer"]);
const SCHEMA_KEYS = new Set([
  "$ref", "type", "enum", "const", "properties", "required", "additionalProperties", "items", "anyOf", "oneOf", "allOf", "not",
  "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "format", "minItems", "maxItems",
  "description", "default", "title", "examples", "contentMediaType", "uniqueItems", "prefixItems", "patternProperties", "minProperties", "maxProperties",
]);

function resolve(doc: Json, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  let node: unknown = doc;
  for (const part of ref.slice(2).split("/")) node = (node as Json | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  return node;
}

/** Problems of one JSON Schema, each with its location. */
function checkSchema(doc: Json, schema: unknown, at: string, out: string[]): void {
  if (typeof schema === "boolean") return;
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return void out.push(`${at}: schema is not an object`);
  const s = schema as Json;
  for (const key of Object.keys(s)) if (!SCHEMA_KEYS.has(key)) out.push(`${at}: unknown keyword ${key}`);
  if (typeof s.$ref === "string" && resolve(doc, s.$ref) === undefined) out.push(`${at}: $ref ${s.$ref} does not resolve`);
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (types.length === 0 || types.some((t) => !JSON_TYPES.has(t as string))) out.push(`${at}: bad type ${JSON.stringify(s.type)}`);
  }
  if (s.enum !== undefined && (!Array.isArray(s.enum) || s.enum.length === 0)) out.push(`${at}: enum must be a non-empty array`);
  if (s.required !== undefined) {
    if (!Array.isArray(s.required) || s.required.some((r) => typeof r !== "string")) out.push(`${at}: required must be strings`);
    else if (s.properties && s.additionalProperties === false)
      for (const r of s.required as string[]) if (!(r in (s.properties as Json))) out.push(`${at}: required ${r} is not a property`);
  }
  if (s.properties !== undefined) {
    if (typeof s.properties !== "object" || s.properties === null) out.push(`${at}: properties must be an object`);
    else for (const [k, sub] of Object.entries(s.properties as Json)) checkSchema(doc, sub, `${at}.properties.${k}`, out);
  }
  if (s.additionalProperties !== undefined) checkSchema(doc, s.additionalProperties, `${at}.additionalProperties`, out);
  if (s.items !== undefined) checkSchema(doc, s.items, `${at}.items`, out);
  if (s.not !== undefined) checkSchema(doc, s.not, `${at}.not`, out);
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    if (s[key] === undefined) continue;
    if (!Array.isArray(s[key]) || (s[key] as unknown[]).length === 0) out.push(`${at}: ${key} must be a non-empty array`);
    else (s[key] as unknown[]).forEach((sub, n) => checkSchema(doc, sub, `${at}.${key}[${n}]`, out));
  }
  for (const key of ["minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"]) {
    if (s[key] !== undefined && typeof s[key] !== "number") out.push(`${at}: ${key} must be a number`);
  }
  if (typeof s.minimum === "number" && typeof s.maximum === "number" && s.minimum > s.maximum) out.push(`${at}: minimum above maximum`);
  if (s.pattern !== undefined) {
    try {
      new RegExp(s.pattern as string, "u");
    } catch {
      out.push(`${at}: pattern is not a regular expression`);
    }
  }
}

function checkContent(doc: Json, content: unknown, at: string, out: string[]): void {
  if (content === undefined) return;
  if (typeof content !== "object" || content === null) return void out.push(`${at}: content must be a map`);
  for (const [type, media] of Object.entries(content as Json)) {
    if (!/^[a-z*]+\/[a-z0-9.+*-]+$/i.test(type)) out.push(`${at}: bad media type ${type}`);
    if ((media as Json).schema !== undefined) checkSchema(doc, (media as Json).schema, `${at}.${type}.schema`, out);
  }
}

/** Problems of the whole document; empty when it is well-formed. */
function checkDocument(doc: Json): string[] {
  const out: string[] = [];
  if (typeof doc.openapi !== "string" || !/^3\.1\.\d+$/.test(doc.openapi)) out.push(`openapi: "${doc.openapi}" is not 3.1.x`);
  const info = doc.info as Json | undefined;
  if (!info || typeof info.title !== "string" || typeof info.version !== "string") out.push("info: title and version are required strings");
  const paths = doc.paths as Record<string, Json> | undefined;
  if (!paths || typeof paths !== "object") return [...out, "paths: missing"];
  const schemes = ((doc.components as Json | undefined)?.securitySchemes ?? {}) as Json;
  for (const [name, s] of Object.entries(((doc.components as Json | undefined)?.schemas ?? {}) as Json)) checkSchema(doc, s, `components.schemas.${name}`, out);
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries(paths)) {
    if (!path.startsWith("/")) out.push(`${path}: a path starts with /`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    for (const key of Object.keys(item)) if (!METHODS.includes(key) && !["parameters", "summary", "description"].includes(key)) out.push(`${path}: unknown key ${key}`);
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const at = `${method.toUpperCase()} ${path}`;
      const params = (op.parameters ?? []) as Json[];
      const seen = new Set<string>();
      for (const p of params) {
        if (typeof p.name !== "string" || !["path", "query", "header", "cookie"].includes(p.in as string)) out.push(`${at}: parameter needs name and a valid in`);
        if (seen.has(`${p.in}:${p.name}`)) out.push(`${at}: parameter ${p.name} twice`);
        seen.add(`${p.in}:${p.name}`);
        if (p.in === "path" && p.required !== true) out.push(`${at}: path parameter ${p.name} must be required`);
        if (p.in === "path" && !templated.includes(p.name as string)) out.push(`${at}: path parameter ${p.name} not in the path`);
        checkSchema(doc, p.schema ?? {}, `${at} parameter ${p.name}`, out);
      }
      for (const t of templated) if (!params.some((p) => p.in === "path" && p.name === t)) out.push(`${at}: {${t}} has no path parameter`);
      if (op.operationId !== undefined) {
        if (operationIds.has(op.operationId as string)) out.push(`${at}: operationId ${op.operationId} not unique`);
        operationIds.add(op.operationId as string);
      }
      if (op.requestBody !== undefined) checkContent(doc, (op.requestBody as Json).content, `${at} requestBody`, out);
      const responses = op.responses as Record<string, Json> | undefined;
      if (!responses || Object.keys(responses).length === 0) out.push(`${at}: no responses`);
      for (const [status, r] of Object.entries(responses ?? {})) {
        if (!/^([1-5]\d\d|[1-5]XX|default)$/.test(status)) out.push(`${at}: bad status ${status}`);
        if (typeof r.description !== "string") out.push(`${at} ${status}: description is required`);
        checkContent(doc, r.content, `${at} ${status}`, out);
      }
      for (const req of (op.security ?? []) as Json[]) for (const name of Object.keys(req)) if (!(name in schemes)) out.push(`${at}: unknown security scheme ${name}`);
    }
  }
  // Every $ref anywhere, not only in schemas.
  const walk = (node: unknown, at: string) => {
    if (Array.isArray(node)) node.forEach((n, k) => walk(n, `${at}[${k}]`));
    else if (node && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) {
        if (k === "$ref" && (typeof v !== "string" || resolve(doc, v) === undefined)) out.push(`${at}: $ref ${v} does not resolve`);
        walk(v, `${at}.${k}`);
      }
    }
  };
  walk(doc, "#");
  return out;
}

async function fetchDocument(): Promise<Json> {
  const { app } = harness();
  const res = await app.request("/openapi.json");
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

describe("GET /openapi.json", () => {
  test("is a well-formed OpenAPI 3.1 document: every $ref resolves, every operation has responses", async () => {
    const doc = await fetchDocument();
    expect(checkDocument(doc)).toEqual([]);
  });

  test("the checker itself refuses broken documents", () => {
    const broken = {
      openapi: "3.0.3",
      info: { title: "x" },
      paths: {
        "/a/{i}": { get: { responses: {} } },
        "/b": { post: { responses: { "200": { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/Nope", type: "float" } } } } } } },
      },
    };
    const problems = checkDocument(broken).join("\n");
    expect(problems).toContain("not 3.1.x");
    expect(problems).toContain("info: title and version");
    expect(problems).toContain("GET /a/{i}: no responses");
    expect(problems).toContain("{i} has no path parameter");
    expect(problems).toContain("$ref #/components/schemas/Nope does not resolve");
    expect(problems).toContain('bad type "float"');
  });

  test("describes every route of the route table in http-api.md", async () => {
    const doc = await fetchDocument();
    const routes = specRoutes(readFileSync(SPEC, "utf8"));
    // The table parser must really find the table, or this test proves nothing.
    expect(routes.length).toBeGreaterThanOrEqual(13);
    expect(routes).toContainEqual({ method: "post", path: "/api/v1/evses/{i}/commands/{name}" });
    const missing = routes.filter((r) => !covered(doc, r.method, r.path)).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(missing).toEqual([]);
  });

  test("a route missing from the document is noticed", async () => {
    const doc = await fetchDocument();
    const paths = { ...(doc.paths as Json) };
    delete paths["/api/v1/evses/{i}/commands/pause_charging"];
    expect(covered({ ...doc, paths }, "post", "/api/v1/evses/{i}/commands/{name}")).toBe(false);
    expect(covered(doc, "post", "/api/v1/evses/{i}/frobnicate")).toBe(false);
  });

  test("describes every route the app serves", async () => {
    const { app } = harness();
    const doc = await fetchDocument();
    const served = app.routes
      .filter((r) => r.method !== "ALL" && !r.path.includes("*"))
      .map((r) => ({ method: r.method.toLowerCase(), path: r.path.replace(/:([A-Za-z_]+)/g, "{$1}") }));
    expect(served.length).toBeGreaterThan(10);
    const missing = served.filter((r) => !covered(doc, r.method, r.path)).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(missing).toEqual([]);
  });

  test("command paths carry the argument schema the server validates with", async () => {
    const doc = await fetchDocument();
    const op = ((doc.paths as Json)["/api/v1/evses/{i}/commands/set_faulted"] as Json).post as Json;
    expect(op).toBeDefined();
    const schema = (((op.requestBody as Json).content as Json)["application/json"] as Json).schema as Json;
    expect(schema.type).toBe("object");
    expect(schema.additionalProperties).toBe(false);
  });
});

describe("GET /docs", () => {
  test("is one self-contained HTML page listing every operation of the document", async () => {
    const { app } = harness();
    const doc = await fetchDocument();
    const res = await app.request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    // Self-contained: nothing loaded from another origin, no script at all.
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!localhost)/i);
    for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
      const escaped = path.replace(/&/g, "&#38;");
      expect(html).toContain(`<code>${escaped}</code>`);
      for (const method of Object.keys(item).filter((k) => METHODS.includes(k))) {
        expect(html).toContain(`${method}-${path}`.replace(/[^A-Za-z0-9_-]/g, "_"));
        const summary = (item[method] as Json).summary;
        if (typeof summary === "string") expect(html).toContain(summary.replace(/&/g, "&#38;").replace(/</g, "&#60;").replace(/>/g, "&#62;").replace(/"/g, "&#34;").replace(/'/g, "&#39;"));
      }
    }
    expect(html).toContain('<a href="#schema-EnforcedLimits">EnforcedLimits</a>');
    expect(html).toContain('id="schema-EnforcedLimits"');
  });

  test("answers 405 to other methods", async () => {
    const { app } = harness();
    expect((await app.request("/docs", { method: "POST" })).status).toBe(405);
  });
});
