// The Hono app: metrics, log, auth and cross-site middleware, then the route table
// (route-table.ts) with its 405 answers. One onError renders every refusal.
import { Hono } from "hono";
import { routePath } from "hono/route";
import { bearerAuth } from "./auth.ts";
import type { ApiContext } from "./context.ts";
import { crossSiteGuard } from "./cross-site.ts";
import { ApiError, renderError } from "./errors.ts";
import { writeLog } from "./log.ts";
import { mountRoutes } from "./route.ts";
import { ROUTES } from "./route-table.ts";

export function createApp(ctx: ApiContext): Hono {
  const app = new Hono();

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
  return app;
}
