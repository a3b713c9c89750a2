// One HTTP route, declared once: method, path, the valibot schemas of its parameters, query,
// body and answers, whether it needs the token, and its handler. The Hono routes, the 405
// answers (with `Allow`) and the OpenAPI paths are all generated from these declarations
// (mountRoutes below, openapi.ts), so the server and its description cannot disagree.
//
// Checks run in the contract's order: the token (401) and the cross-site rule (403) are
// middleware in app.ts; then the EVSE of `{i}` (404 unknown_evse) and the other path parameters
// (404); the query and the body are read when the handler asks for them (`input.query()`,
// `input.body()`), because some routes refuse other things first (a real board, a missing token).
import type { Context, Hono } from "hono";
import * as v from "valibot";
import { refuseArrayAsObject } from "./array-as-object.ts";
import { readJsonBody, readJsonObject } from "./body.ts";
import { evseOf, methodNotAllowed, type ApiContext, type EvseRuntime } from "./context.ts";
import { ApiError, validationError } from "./errors.ts";

export type Method = "GET" | "POST" | "PUT" | "DELETE";

type Schema = v.GenericSchema;

/** A path parameter other than `{i}`: a value the schema refuses is a 404 with this message. */
export interface PathParam {
  schema: Schema;
  description: string;
  notFound: (raw: string) => string;
}

/** A request header the route reads (documentation only: the handler reads it). */
export interface HeaderParam {
  name: string;
  required: boolean;
  description: string;
  schema: Schema;
}

export interface QuerySpec<S extends Schema> {
  /** An object schema; each entry is one query parameter. */
  schema: S;
  /** Descriptions of the parameters, by name. */
  descriptions?: Record<string, string>;
  /** The refusal; default: a 400 invalid_query naming each field after `what`. */
  error?: (issues: readonly v.BaseIssue<unknown>[], query: Record<string, string>) => ApiError;
  what?: string;
}

/** A JSON body: read by the contract's rules (body.ts), validated with `schema`. */
export interface JsonBodySpec<S extends Schema> {
  schema: S;
  /** Starts the 400 message: "<what>: <field>: <problem>". */
  what: string;
  required?: boolean;
}

/** A body the handler reads itself (a raw upload): documentation only. */
export interface RawBodySpec {
  media: string;
  schema: Schema;
  description: string;
  required: boolean;
}

export interface ResponseSpec {
  description: string;
  /** A JSON body; the schema is a named component when openapi.ts knows it by that name. */
  schema?: Schema;
  /** A body of another media type (text, HTML, event stream); `schema` then describes it. */
  media?: string | string[];
  /** Response headers worth documenting, by name. */
  headers?: Record<string, { description: string; schema: Schema }>;
}

/** What the generic layer hands the handler. */
export interface RouteInput<Q, B> {
  /** The EVSE of `{i}`; only on routes whose path has `{i}`. */
  evse: EvseRuntime;
  /** A path parameter, already checked against its schema. */
  param(name: string): string;
  /** The query, validated (400 invalid_query otherwise). */
  query(): Q;
  /** The JSON object body, validated with the route's (or the variant's) schema. */
  body(): Promise<B>;
  /** The JSON body as parsed, for handlers that validate it themselves (shared with MQTT). */
  json(): Promise<unknown>;
}

export type Handler<Q, B> = (c: Context, input: RouteInput<Q, B>) => Response | Promise<Response>;

/**
 * One OpenAPI operation per value of a path parameter (the commands: each has its own argument
 * and result schema). Hono still serves one route for the parameter, so an unknown value is a
 * 404 and a wrong method on it a 405.
 */
export interface Variant {
  value: string;
  operationId: string;
  summary: string;
  description?: string;
  body?: JsonBodySpec<Schema>;
  responses: Record<string, ResponseSpec>;
}

export interface Route<Q = unknown, B = unknown> {
  method: Method;
  /** OpenAPI template: `/api/v1/evses/{i}/vars/{name}`; `{i}` is always the EVSE index. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** The bearer token when one is configured (every /api/ route); false: public. */
  auth: boolean;
  params?: Record<string, PathParam>;
  headers?: HeaderParam[];
  query?: QuerySpec<Schema>;
  body?: JsonBodySpec<Schema> | RawBodySpec;
  /** The answers of this route; the ones every route shares (401, 404 EVSE, 405, 413/415) are added. */
  responses: Record<string, ResponseSpec>;
  variants?: { param: string; each: Variant[] };
  /** Called once per app: handlers that keep state (caches, watchers) set it up here. */
  handler: (ctx: ApiContext) => Handler<Q, B>;
}

/** Declares a route; the generics carry the query and body types into the handler. */
export function route<QS extends Schema = v.GenericSchema<Record<string, never>>, BS extends Schema = v.GenericSchema<Record<string, unknown>>>(
  r: Omit<Route, "query" | "body" | "handler"> & {
    query?: QuerySpec<QS>;
    body?: JsonBodySpec<BS> | RawBodySpec;
    handler: (ctx: ApiContext) => Handler<v.InferOutput<QS>, v.InferOutput<BS>>;
  },
): Route {
  return r as unknown as Route;
}

export const isRawBody = (b: Route["body"]): b is RawBodySpec => b !== undefined && "media" in b;

/** `/a/{i}/b` → `/a/:i/b` */
export const honoPath = (path: string): string => path.replace(/\{([A-Za-z_]+)\}/g, ":$1");

function inputOf(ctx: ApiContext, r: Route, c: Context): RouteInput<unknown, unknown> {
  const evse = r.path.includes("{i}") ? evseOf(ctx, c) : undefined;
  for (const [name, p] of Object.entries(r.params ?? {})) {
    const raw = c.req.param(name) ?? "";
    if (!v.is(p.schema, raw)) throw new ApiError(404, "not_found", p.notFound(raw));
  }
  const variant = r.variants ? r.variants.each.find((x) => x.value === c.req.param(r.variants!.param)) : undefined;
  const bodySpec = variant?.body ?? r.body;
  return {
    get evse(): EvseRuntime {
      if (!evse) throw new Error(`${r.path} has no {i}`);
      return evse;
    },
    param: (name) => c.req.param(name) ?? "",
    query() {
      if (!r.query) return {};
      const raw = c.req.query();
      const parsed = v.safeParse(r.query.schema, raw, { abortEarly: false });
      if (parsed.success) return parsed.output;
      throw r.query.error ? r.query.error(parsed.issues, raw) : validationError(r.query.what ?? "invalid query", parsed.issues, "invalid_query");
    },
    async body() {
      if (!bodySpec || isRawBody(bodySpec)) throw new Error(`${r.method} ${r.path} declares no JSON body`);
      const input = await readJsonObject(c);
      const parsed = v.safeParse(bodySpec.schema, input, { abortEarly: false });
      if (!parsed.success) throw validationError(bodySpec.what, parsed.issues);
      refuseArrayAsObject(bodySpec.what, input, parsed.output);
      return parsed.output;
    },
    json: () => readJsonBody(c),
  };
}

/**
 * Registers every route on `app`, then per path a catch-all answering 405 with `Allow` listing
 * the path's methods in the order they are declared. Public routes live outside /api/ and
 * token routes inside it: the token middleware is mounted on /api/* so that a wrong token is a
 * 401 even for a path that does not exist.
 */
export function mountRoutes(app: Hono, routes: readonly Route[], ctx: ApiContext): void {
  const byPath = new Map<string, Method[]>();
  for (const r of routes) {
    if (r.auth !== r.path.startsWith("/api/")) throw new Error(`${r.method} ${r.path}: auth must be true exactly for /api/ routes`);
    const methods = byPath.get(r.path) ?? [];
    if (methods.includes(r.method)) throw new Error(`${r.method} ${r.path} is declared twice`);
    byPath.set(r.path, [...methods, r.method]);
  }
  const handlers = routes.map((r) => ({ r, handle: r.handler(ctx) }));
  for (const [path, methods] of byPath) {
    for (const { r, handle } of handlers) {
      if (r.path !== path) continue;
      app.on(r.method, honoPath(path), (c) => handle(c, inputOf(ctx, r, c)));
    }
    app.all(honoPath(path), methodNotAllowed(methods));
  }
}
