// GET /api/v1/mqtt: the MQTT bridge's connection (api/mqtt-status.ts).
import { route, type Route } from "../route.ts";
import { MqttStatusSchema, mqttStatus } from "../mqtt-status.ts";

export const mqttRoutes: readonly Route[] = [
  route({
    method: "GET",
    path: "/api/v1/mqtt",
    operationId: "getMqtt",
    summary: "The MQTT bridge's connection to the broker (configured, connected, broker without credentials, last error, queue)",
    auth: true,
    responses: { "200": { description: "Connection state", schema: MqttStatusSchema } },
    handler: (ctx) => (c) => c.json(mqttStatus(ctx.mqtt)),
  }),
];
