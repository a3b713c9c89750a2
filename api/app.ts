// The Hono app: auth and metrics middleware, then small route groups mounted under
// /api/v1/evses, plus /healthz, /metrics and /openapi.json. One onError renders every refusal.
import { Hono } from "hono";
import { routePath } from "hono/route";
import { bearerAuth } from "./auth.ts";
import { methodNotAllowed, type ApiContext } from "./context.ts";
import { crossSiteGuard } from "./cross-site.ts";
import { ApiError, renderError } from "./errors.ts";
import { writeLog } from "./log.ts";
import { openApiDocument } from "./openapi.ts";
import { commandsRoutes } from "./routes/commands.ts";
import { controlRoutes } from "./routes/control.ts";
import { dashboardRoutes } from "./routes/dashboard.ts";
import { docsRoutes } from "./routes/docs.ts";
import { energyRoutes } from "./routes/energy.ts";
import { eventsRoutes } from "./routes/events.ts";
import { evsesRoutes } from "./routes/evses.ts";
import { mqttRoutes } from "./routes/mqtt.ts";
import { sessionsRoutes } from "./routes/sessions.ts";
import { simRoutes } from "./routes/sim.ts";
import { systemRoutes } from "./routes/system.ts";
import { tokensRoutes } from "./routes/tokens.ts";
import { varsRoutes } from "./routes/vars.ts";

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

  app.get("/healthz", (c) => {
    const evses = ctx.evses.map((e) => ({ index: e.index, ...e.board.health() }));
    const healthy = evses.every((e) => e.worker_running && e.board_answering);
    const status = healthy ? "ok" : evses.some((e) => !e.worker_running) ? "worker_not_running" : "board_not_answering";
    const uptime_s = Math.floor((ctx.now() - ctx.startedAt) / 1000);
    // A storage problem is reported, not failed: the charger charges safely without its file.
    const storage = ctx.storage ? { storage: ctx.storage } : {};
    return c.json({ status, version: ctx.version, uptime_s, evses, ...storage }, healthy ? 200 : 503);
  });
  app.all("/healthz", methodNotAllowed(["GET"]));

  app.get("/metrics", (c) => c.text(ctx.metrics.render(ctx.evses) + (ctx.frontEnd?.metricsText() ?? ""), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }));
  app.all("/metrics", methodNotAllowed(["GET"]));

  // Built on the first request: converting every schema is not worth start-up time.
  let document: object | null = null;
  const openapi = () => (document ??= openApiDocument(ctx.version));
  app.get("/openapi.json", (c) => c.json(openapi()));
  app.all("/openapi.json", methodNotAllowed(["GET"]));
  app.route("/", docsRoutes(openapi));

  for (const group of [evsesRoutes, varsRoutes, commandsRoutes, eventsRoutes, energyRoutes, sessionsRoutes, simRoutes, controlRoutes]) {
    app.route("/api/v1/evses", group(ctx));
  }
  app.route("/api/v1/system", systemRoutes(ctx));
  app.route("/api/v1", tokensRoutes(ctx));
  app.route("/api/v1/mqtt", mqttRoutes(ctx));

  app.route("/", dashboardRoutes(ctx));

  app.notFound((c) => renderError(new ApiError(404, "not_found", `no route ${c.req.method} ${c.req.path}`), c));
  app.onError(renderError);
  return app;
}
