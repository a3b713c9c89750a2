// GET /api/v1/mqtt: the MQTT bridge's connection (api/mqtt-status.ts).
import { Hono } from "hono";
import { methodNotAllowed, type ApiContext } from "../context.ts";
import { mqttStatus } from "../mqtt-status.ts";

export function mqttRoutes(ctx: ApiContext): Hono {
  const r = new Hono();
  r.get("/", (c) => c.json(mqttStatus(ctx.mqtt)));
  r.all("/", methodNotAllowed(["GET"]));
  return r;
}
