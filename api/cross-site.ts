// The cross-site rule (http-api.md "Cross-site requests"): a write that a web page on another
// site made a user's browser send is refused with 403 `cross_origin` before it changes anything.
// Browsers mark such requests (`Sec-Fetch-Site: cross-site`, an `Origin` header); programs that
// send neither (curl, energy managers) are not affected.
//
// The server's own origin is the one it is reached at: the `Host` header, or `X-Forwarded-Host`
// when a reverse proxy sets it. The scheme is not compared, so a TLS-terminating proxy that keeps
// the Host works; a proxy that rewrites Host must pass the original one on (docs/integrators.md).
// Trusting X-Forwarded-Host gives a web page nothing: a browser sends a custom header
// cross-site only after a CORS preflight, which this server never grants.
import type { MiddlewareHandler } from "hono";
import { ApiError } from "./errors.ts";

const WRITES = new Set(["POST", "PUT", "DELETE", "PATCH"]);
const DEFAULT_PORT: Record<string, string> = { "http:": "80", "https:": "443" };

/** `host` (a Host header value) names the same host and port as the origin `origin`. */
function sameAuthority(origin: URL, host: string): boolean {
  const port = DEFAULT_PORT[origin.protocol]!;
  const h = host.trim().toLowerCase();
  const bare = h.endsWith(`:${port}`) ? h.slice(0, -port.length - 1) : h;
  return bare === origin.host.toLowerCase();
}

/** An origin is a bare scheme://host[:port]; "null" and anything else is never our own. */
const ORIGIN = /^https?:\/\/[^/?#@\s]+$/i;

export function isOwnOrigin(origin: string, host: string | undefined, forwardedHost: string | undefined): boolean {
  if (!ORIGIN.test(origin)) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (host !== undefined && sameAuthority(url, host)) return true;
  const forwarded = forwardedHost?.split(",")[0]?.trim();
  return forwarded !== undefined && forwarded !== "" && sameAuthority(url, forwarded);
}

export function crossSiteGuard(): MiddlewareHandler {
  return async (c, next) => {
    if (WRITES.has(c.req.method)) {
      if (c.req.header("sec-fetch-site")?.trim().toLowerCase() === "cross-site") {
        throw new ApiError(403, "cross_origin", "cross-site request refused: a web page on another site may not change the charger");
      }
      const origin = c.req.header("origin");
      if (origin !== undefined && !isOwnOrigin(origin, c.req.header("host"), c.req.header("x-forwarded-host"))) {
        throw new ApiError(403, "cross_origin", `cross-site request refused: Origin ${origin.slice(0, 100)} is not this server's origin`);
      }
    }
    await next();
  };
}
