// Bearer-token check for /api/ (http-api.md "Authentication"): runs before anything else on those
// routes, so a wrong token is a 401 even for a request that would also be a 404 or a 400.
import type { MiddlewareHandler } from "hono";
import { ApiError } from "./errors.ts";

// Digests of equal length are compared, so neither the time nor an early return tells a caller
// how long the token is or how much of it was right. Bun's native hasher and the global
// crypto.timingSafeEqual rather than node:crypto, whose import costs some 8 ms of every start.
const digest = (text: string): Buffer => Bun.CryptoHasher.hash("sha256", text);

/** The check of an Authorization header value: true when it carries the token (always when
 *  there is none configured). Shared by bearerAuth and the app's fast path for GET …/vars. */
export function tokenCheck(token: string | null): (header: string) => boolean {
  const expected = token === null ? null : digest(token);
  return (header) => {
    if (expected === null) return true;
    const match = /^Bearer[ ]+(.+)$/i.exec(header.trim());
    const given = digest(match ? match[1]! : "");
    // Always compared, also without a token in the header, so that case costs the same.
    return crypto.timingSafeEqual(given, expected) && match !== null;
  };
}

export function bearerAuth(token: string | null): MiddlewareHandler {
  const authorized = tokenCheck(token);
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    if (!authorized(header)) {
      c.header("WWW-Authenticate", 'Bearer realm="evse-manager"');
      throw new ApiError(401, "unauthorized", header === "" ? "missing Authorization: Bearer <token> header" : "wrong bearer token");
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
