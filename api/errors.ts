// One error type for the whole API, after Hono's HTTPException: a route throws an ApiError and the
// single onError handler renders the contract's body {"error","message","details"}. No route
// formats an error itself, so every refusal has the same shape and the same status rules.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import * as v from "valibot";
import { formatIssues } from "../core/types/index.ts";

/** The body of every refusal (http-api.md "Errors"); components/schemas/Error in /openapi.json. */
export const ErrorBodySchema = v.strictObject({
  error: v.pipe(v.string(), v.description("machine-readable code, e.g. invalid_body, unknown_evse")),
  message: v.pipe(v.string(), v.description("one sentence for a person")),
  details: v.pipe(
    v.array(v.strictObject({ path: v.pipe(v.string(), v.description("the field, e.g. limits_root_side.ac_max_current_A; empty for the whole body")), message: v.string() })),
    v.description("one entry per offending field; empty when no field is to blame"),
  ),
});

export type ErrorDetail = v.InferOutput<typeof ErrorBodySchema>["details"][number];

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly error: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }

  body(): { error: string; message: string; details: ErrorDetail[] } {
    return { error: this.error, message: this.message, details: this.details };
  }
}

export const notFound = (what: string): ApiError => new ApiError(404, "not_found", what);

/** A schema failure as a 400, one detail per issue so every offending field is named. */
export function validationError(what: string, issues: readonly v.BaseIssue<unknown>[], error = "invalid_body"): ApiError {
  const details = formatIssues(issues);
  const first = details[0];
  const where = first ? (first.path === "" ? first.message : `${first.path}: ${first.message}`) : "invalid";
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : "";
  return new ApiError(400, error, `${what}: ${where}${more}`, details);
}

export function renderError(err: unknown, c: Context): Response {
  if (err instanceof ApiError) return c.json(err.body(), err.status);
  // Anything else is our fault, never the caller's: say so without leaking internals.
  console.error(err);
  return c.json({ error: "internal_error", message: "internal error", details: [] }, 500);
}
