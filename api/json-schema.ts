// valibot schema → JSON Schema (draft 2020-12, as OpenAPI 3.1 uses it), for the kinds our
// schemas are built from. The OpenAPI document is generated with it from the very schemas the
// server validates with, so the two cannot drift apart.
import type * as v from "valibot";
import { isRfc3339DateTime } from "../core/types/index.ts";

type JsonSchema = Record<string, unknown>;
type AnySchema = v.GenericSchema & {
  type: string;
  entries?: Record<string, AnySchema>;
  options?: unknown[];
  item?: AnySchema;
  wrapped?: AnySchema;
  literal?: unknown;
  key?: AnySchema;
  value?: AnySchema;
  rest?: AnySchema;
  pipe?: ({ kind: string; type: string; requirement?: unknown } | AnySchema)[];
};

function applyAction(out: JsonSchema, action: { type: string; requirement?: unknown; description?: unknown }): void {
  const isArray = out.type === "array";
  switch (action.type) {
    case "integer":
      out.type = "integer";
      break;
    case "min_value":
      out.minimum = action.requirement;
      break;
    case "max_value":
      out.maximum = action.requirement;
      break;
    case "min_length":
      out[isArray ? "minItems" : "minLength"] = action.requirement;
      break;
    case "max_length":
      out[isArray ? "maxItems" : "maxLength"] = action.requirement;
      break;
    case "length":
      out[isArray ? "minItems" : "minLength"] = action.requirement;
      out[isArray ? "maxItems" : "maxLength"] = action.requirement;
      break;
    case "regex":
      out.pattern = (action.requirement as RegExp).source;
      break;
    case "description":
      out.description = (action as { description?: unknown }).description;
      break;
    case "check":
      if (action.requirement === isRfc3339DateTime) out.format = "date-time";
      break;
  }
}

export function toJsonSchema(schema: v.GenericSchema): JsonSchema {
  const s = schema as AnySchema;
  if (s.pipe) {
    const [base, ...actions] = s.pipe;
    const out = toJsonSchema(base as AnySchema);
    for (const action of actions) {
      if ((action as { kind: string }).kind === "schema") Object.assign(out, toJsonSchema(action as AnySchema));
      else applyAction(out, action as { type: string; requirement?: unknown });
    }
    return out;
  }
  switch (s.type) {
    case "string":
      return { type: "string" };
    case "number":
      return { type: "number" };
    case "boolean":
      return { type: "boolean" };
    case "null":
      return { type: "null" };
    case "literal":
      return { const: s.literal };
    case "picklist":
      return { enum: s.options };
    case "enum":
      return { enum: s.options };
    case "array":
      return { type: "array", items: toJsonSchema(s.item!) };
    case "optional":
    case "exact_optional":
    case "undefinedable":
      return toJsonSchema(s.wrapped!);
    case "nullable":
    case "nullish":
      return { anyOf: [toJsonSchema(s.wrapped!), { type: "null" }] };
    case "union":
      return { anyOf: (s.options as AnySchema[]).map(toJsonSchema) };
    case "variant":
      return { oneOf: (s.options as AnySchema[]).map(toJsonSchema) };
    case "record":
      return { type: "object", additionalProperties: toJsonSchema(s.value!) };
    case "object":
    case "loose_object":
    case "strict_object":
    case "object_with_rest": {
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const [key, entry] of Object.entries(s.entries ?? {})) {
        properties[key] = toJsonSchema(entry);
        if (!["optional", "exact_optional", "nullish", "undefinedable"].includes(entry.type)) required.push(key);
      }
      const out: JsonSchema = { type: "object", properties };
      if (required.length > 0) out.required = required;
      if (s.type === "strict_object") out.additionalProperties = false;
      if (s.type === "object_with_rest") out.additionalProperties = toJsonSchema(s.rest!);
      return out;
    }
    default:
      return {};
  }
}
