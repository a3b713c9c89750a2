// GET /healthz and GET /metrics: what a supervisor and a monitoring system poll. No token: they
// tell nothing a caller could use to change the charger.
import * as v from "valibot";
import { route, type Route } from "../route.ts";

const StorageHealthSchema = v.strictObject({
  persistent: v.pipe(v.boolean(), v.description('false on ":memory:": nothing survives a restart')),
  problem: v.pipe(v.nullable(v.string()), v.description("why the configured storage.path is not in use as it was (corrupt file moved aside, fallback to memory)")),
});

export const HealthSchema = v.strictObject({
  status: v.picklist(["ok", "worker_not_running", "board_not_answering"]),
  version: v.string(),
  uptime_s: v.pipe(v.number(), v.integer(), v.description("seconds since the process started")),
  evses: v.array(v.strictObject({ index: v.pipe(v.number(), v.integer()), worker_running: v.boolean(), board_answering: v.boolean() })),
  storage: v.pipe(v.optional(StorageHealthSchema), v.description("a problem with the storage file is reported here but is not a 503: the charger charges safely without it")),
});

export const serviceRoutes: Route[] = [
  route({
    method: "GET",
    path: "/healthz",
    operationId: "getHealth",
    summary: "Liveness of the process, the real-time worker and the board (no token needed)",
    auth: false,
    responses: {
      "200": { description: "Healthy", schema: HealthSchema },
      "503": { description: "Worker not running or board not answering (status says which)", schema: HealthSchema },
    },
    handler: (ctx) => (c) => {
      const evses = ctx.evses.map((e) => ({ index: e.index, ...e.board.health() }));
      const healthy = evses.every((e) => e.worker_running && e.board_answering);
      const status = healthy ? "ok" : evses.some((e) => !e.worker_running) ? "worker_not_running" : "board_not_answering";
      const uptime_s = Math.floor((ctx.now() - ctx.startedAt) / 1000);
      // A storage problem is reported, not failed: the charger charges safely without its file.
      const storage = ctx.storage ? { storage: ctx.storage } : {};
      return c.json({ status, version: ctx.version, uptime_s, evses, ...storage }, healthy ? 200 : 503);
    },
  }),
  route({
    method: "GET",
    path: "/metrics",
    operationId: "getMetrics",
    summary: "Prometheus metrics (no token needed)",
    auth: false,
    responses: { "200": { description: "Prometheus text exposition format 0.0.4", media: "text/plain", schema: v.string() } },
    handler: (ctx) => (c) => c.text(ctx.metrics.render(ctx.evses) + (ctx.frontEnd?.metricsText() ?? ""), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }),
  }),
];
