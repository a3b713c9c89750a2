// Bearer-token check for /api/ (http-api.md "Authentication"): runs before anything else on those
// routes, so a wrong token is a 401 even for a request that would also be a 404 or a 400.
import type { MiddlewareHandler } from "hono";
import { timingSafeEqual } from "node:crypto";
import { ApiError } from "./errors.ts";

export function bearerAuth(token: string | null): MiddlewareHandler {
  const expected = token === null ? null : Buffer.from(token, "utf8");
  return async (c, next) => {
    if (expected !== null) {
      const header = c.req.header("authorization") ?? "";
      const match = /^Bearer[ ]+(.+)$/i.exec(header.trim());
      const given = match ? Buffer.from(match[1]!, "utf8") : null;
      if (!given || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        c.header("WWW-Authenticate", 'Bearer realm="evse-manager"');
        throw new ApiError(401, "unauthorized", header === "" ? "missing Authorization: Bearer <token> header" : "wrong bearer token");
      }
    }
    await next();
  };
}

/** http-api.md: the environment variable wins over the config; an empty value counts as not set. */
export function effectiveToken(configToken: string | undefined | null, env: string | undefined): string | null {
  if (env !== undefined && env !== "") return env;
  if (configToken !== undefined && configToken !== null && configToken !== "") return configToken;
  return null;
}
