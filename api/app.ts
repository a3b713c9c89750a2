// The Hono app: metrics, log, auth and cross-site middleware, then the route table
// (route-table.ts) with its 405 answers. One onError renders every refusal.
import type { Hono } from "hono";
import { HonoBase } from "hono/hono-base";
import { TrieRouter } from "hono/router/trie-router";
import { routePath } from "hono/route";
import { bearerAuth, tokenCheck } from "./auth.ts";
import type { ApiContext } from "./context.ts";
import { crossSiteGuard } from "./cross-site.ts";
import { ApiError, renderError } from "./errors.ts";
import { writeLog } from "./log.ts";
import { mountRoutes } from "./route.ts";
import { ROUTES } from "./route-table.ts";

export function createApp(ctx: ApiContext): Hono {
  // Hono's default router compiles one regular expression for all routes on the first request:
  // without the JIT that took some 20 ms of the first /healthz. The trie router has no such step.
  const app: Hono = new HonoBase({ router: new TrieRouter() });

  app.use("*", async (c, next) => {
    const t0 = performance.now();
    await next();
    const path = routePath(c, -1);
    // Unmatched paths are one label, so a scanner cannot blow up the metric's cardinality.
    const route = path.endsWith("*") ? "unmatched" : path;
    ctx.metrics.request(c.req.method, route, c.res.status, (performance.now() - t0) / 1000);
  });
  if (ctx.logger) app.use("/api/v1/evses/*", writeLog(ctx.logger, ctx.evses));
  app.use("/api/*", bearerAuth(ctx.token));
  // After the token check: for /api/ a 401 comes before any other error (http-api.md).
  app.use("*", crossSiteGuard());

  mountRoutes(app, ROUTES, ctx);

  app.notFound((c) => renderError(new ApiError(404, "not_found", `no route ${c.req.method} ${c.req.path}`), c));
  app.onError(renderError);
  fastVars(app, ctx);
  return app;
}

/** GET /api/v1/evses/{i}/vars with nothing else in the target: the path the dashboard and
 *  integrations poll. */
const VARS_TARGET = /^\/api\/v1\/evses\/([1-9][0-9]{0,5})\/vars$/;
const VARS_ROUTE = "/api/v1/evses/:i/vars";
const JSON_HEADERS = { "content-type": "application/json" } as const;

/**
 * The polled GET …/vars, answered before Hono's router and middleware: a known EVSE with the right
 * token (or none configured) gets the same answer as through the route (routes/vars.ts: the JSON
 * text serialized once per publication, publications.ts) and is counted in the metrics as the route
 * is. The middleware it skips does nothing for it: the write log and the cross-site rule concern
 * writes only. Anything else (another method, a query, an unknown EVSE, a missing or wrong token)
 * goes the general way, which gives the contract's refusals.
 */
function fastVars(app: Hono, ctx: ApiContext): void {
  const general = app.fetch;
  const authorized = tokenCheck(ctx.token);
  app.fetch = (req, ...rest) => {
    if (req.method === "GET") {
      const t0 = performance.now();
      const url = req.url;
      const m = VARS_TARGET.exec(url.slice(url.indexOf("/", url.indexOf("//") + 2)));
      const evse = m ? ctx.evses[Number(m[1]) - 1] : undefined;
      if (evse && authorized(req.headers.get("authorization") ?? "")) {
        const res = new Response(evse.publications.valuesJson(), { status: 200, headers: JSON_HEADERS });
        ctx.metrics.request("GET", VARS_ROUTE, 200, (performance.now() - t0) / 1000);
        return res;
      }
    }
    return general(req, ...rest);
  };
}
