// GET /openapi.json: the route table (route-table.ts) as an OpenAPI 3.1 document. Every schema in
// it is converted by @valibot/to-json-schema from the valibot schema the server validates with or
// answers with; a valibot kind or action the converter does not know throws here (and fails
// test/openapi.test.ts) instead of silently becoming `{}`.
import { toJsonSchema, toJsonSchemaDefs, type ConversionConfig, type JsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import { isRfc3339DateTime } from "../core/types/index.ts";
import { isOfferableCurrent } from "./control.ts";
import { isRawBody, type Route, type Variant } from "./route.ts";

type Json = Record<string, unknown>;

/** Checks the converter cannot see into, as JSON Schema. */
function checkSchema(requirement: unknown, base: JsonSchema): JsonSchema | null {
  if (requirement === isRfc3339DateTime) return { ...base, format: "date-time" };
  if (requirement === isOfferableCurrent) return { ...base, anyOf: [{ const: 0 }, { minimum: 6 }] };
  return null;
}

const REF_PREFIX = "#/components/schemas/";

/** The project grants no licence (package.json is private and names none). */
const LICENSE = { name: "Proprietary: all rights reserved", identifier: "LicenseRef-Proprietary" };

function config(components: Record<string, v.GenericSchema>, typeMode: ConversionConfig["typeMode"] = "ignore"): ConversionConfig {
  return {
    target: "draft-2020-12",
    typeMode,
    errorMode: "throw",
    definitions: components,
    overrideRef: ({ referenceId }) => `${REF_PREFIX}${referenceId}`,
    overrideAction: ({ valibotAction, jsonSchema }) => {
      const action = valibotAction as { type: string; requirement?: unknown };
      if (action.type === "check") return checkSchema(action.requirement, jsonSchema);
      // JSON has no non-finite numbers: nothing to say.
      if (action.type === "finite") return jsonSchema;
      return null;
    },
  };
}

/** A schema as it goes into the document: without the converter's `$schema` and `$defs`. */
function strip(schema: JsonSchema): Json {
  const { $schema: _s, $defs: _d, ...rest } = schema as Json;
  return rest;
}

const OPTIONAL = new Set(["optional", "exact_optional", "nullish", "undefinedable"]);

interface Converter {
  schema(s: v.GenericSchema): Json;
  /** Query parameters are strings on the wire; what they mean is the schema's output. */
  output(s: v.GenericSchema): Json;
}

const ERROR_REF = { $ref: `${REF_PREFIX}Error` };
const errorResponse = (description: string) => ({ description, content: { "application/json": { schema: ERROR_REF } } });

function responsesOf(r: Route, variant: Variant | undefined, conv: Converter): Json {
  const out: Json = {};
  const declared = { ...r.responses, ...(variant?.responses ?? {}) };
  const body = variant?.body ?? r.body;
  const jsonBody = body !== undefined && !isRawBody(body);
  const notFound = [r.path.includes("{i}") ? "EVSE" : null, ...Object.keys(r.params ?? {}).filter((p) => p !== r.variants?.param)].filter((x) => x !== null);
  const standard: Record<string, string | null> = {
    "400": jsonBody ? "Malformed JSON, or a field the schema refuses (named in details)" : null,
    "401": r.auth ? "Missing or wrong bearer token" : null,
    "404": notFound.length > 0 ? `Unknown ${notFound.join(" or ")}` : null,
    "405": "Method not allowed on this path (the Allow header lists the allowed ones)",
    "413": jsonBody ? "Body over 64 KiB" : null,
    "415": jsonBody ? "Body that is not application/json" : null,
  };
  for (const [status, description] of Object.entries(standard)) if (description !== null) out[status] = errorResponse(description);
  for (const [status, spec] of Object.entries(declared)) {
    const response: Json = { description: spec.description };
    if (spec.schema) {
      const schema = conv.schema(spec.schema);
      response.content = Object.fromEntries([spec.media ?? "application/json"].flat().map((media) => [media, { schema }]));
    } else if (Number(status) >= 400) {
      response.content = { "application/json": { schema: ERROR_REF } };
    }
    if (spec.headers) {
      response.headers = Object.fromEntries(Object.entries(spec.headers).map(([name, h]) => [name, { description: h.description, schema: conv.schema(h.schema) }]));
    }
    out[status] = response;
  }
  if (out["405"]) (out["405"] as Json).headers = { Allow: { description: "The methods this path answers", schema: { type: "string" } } };
  return out;
}

function operationOf(r: Route, variant: Variant | undefined, conv: Converter): Json {
  const parameters: Json[] = [];
  if (r.path.includes("{i}")) parameters.push({ name: "i", in: "path", required: true, description: "EVSE index, from 1", schema: { type: "integer", minimum: 1 } });
  for (const [name, p] of Object.entries(r.params ?? {})) {
    if (name === r.variants?.param) continue;
    parameters.push({ name, in: "path", required: true, description: p.description, schema: conv.schema(p.schema) });
  }
  if (r.query) {
    const entries = (r.query.schema as unknown as { entries: Record<string, v.GenericSchema & { type: string }> }).entries;
    for (const [name, entry] of Object.entries(entries)) {
      const parameter: Json = { name, in: "query", required: !OPTIONAL.has(entry.type), schema: conv.output(entry) };
      const description = r.query.descriptions?.[name];
      if (description) parameter.description = description;
      parameters.push(parameter);
    }
  }
  for (const h of r.headers ?? []) parameters.push({ name: h.name, in: "header", required: h.required, description: h.description, schema: conv.schema(h.schema) });

  const op: Json = { operationId: variant?.operationId ?? r.operationId, summary: variant?.summary ?? r.summary };
  const description = variant?.description ?? r.description;
  if (description) op.description = description;
  // Public routes say so: an empty list overrides nothing globally, but states no token is needed.
  op.security = r.auth ? [{ bearer: [] }] : [];
  if (parameters.length > 0) op.parameters = parameters;
  const body = variant?.body ?? r.body;
  if (body) {
    op.requestBody = isRawBody(body)
      ? { required: body.required, description: body.description, content: { [body.media]: { schema: conv.schema(body.schema) } } }
      : { required: body.required ?? true, content: { "application/json": { schema: conv.schema(body.schema) } } };
  }
  op.responses = responsesOf(r, variant, conv);
  return op;
}

export interface DocumentOptions {
  version: string;
  routes: readonly Route[];
  /** Named schemas: each becomes components/schemas/<name> and every use of it a $ref. */
  components: Record<string, v.GenericSchema>;
}

export function openApiDocument({ version, routes, components }: DocumentOptions): Json {
  const conv: Converter = {
    schema: (s) => strip(toJsonSchema(s, config(components))),
    output: (s) => strip(toJsonSchema(s, config(components, "output"))),
  };
  const schemas: Json = {};
  for (const [name, s] of Object.entries(toJsonSchemaDefs(components, config({})))) schemas[name] = strip(s);

  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const targets: [string, Variant | undefined][] = r.variants ? r.variants.each.map((x) => [r.path.replace(`{${r.variants!.param}}`, x.value), x]) : [[r.path, undefined]];
    for (const [path, variant] of targets) (paths[path] ??= {})[r.method.toLowerCase()] = operationOf(r, variant, conv);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "evse-manager",
      version,
      license: LICENSE,
      description: "EVerest evse_manager 2025.1.0 over HTTP, version 1 of the API; reference with the event stream and error rules: docs/http-api.md in the repository",
    },
    servers: [{ url: "/", description: "The charger that serves this document" }],
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "api.token or EVSE_API_TOKEN; without one configured, no route needs it" } }, schemas },
    paths,
  };
}
