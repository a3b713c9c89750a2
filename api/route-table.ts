// The HTTP API as one table: every route the server answers, in the order /openapi.json lists
// them. app.ts mounts it (route.ts: Hono routes and 405 answers), openapi.ts describes it.
import type * as v from "valibot";
import { VARIABLE_NAMES } from "../core/kernel-api.ts";
import { EnforcedLimitsSchema, VARIABLE_SCHEMAS } from "../core/types/index.ts";
import { ControlSchema } from "./control.ts";
import { ErrorBodySchema } from "./errors.ts";
import { openApiDocument } from "./openapi.ts";
import type { Route } from "./route.ts";
import { commandsRoutes } from "./routes/commands.ts";
import { controlRoutes } from "./routes/control.ts";
import { dashboardRoutes } from "./routes/dashboard.ts";
import { docsRoutes } from "./routes/docs.ts";
import { energyRoutes } from "./routes/energy.ts";
import { eventsRoutes } from "./routes/events.ts";
import { evsesRoutes } from "./routes/evses.ts";
import { MqttStatusSchema } from "./mqtt-status.ts";
import { mqttRoutes } from "./routes/mqtt.ts";
import { HealthSchema, serviceRoutes } from "./routes/service.ts";
import { VerifiedSessionPageSchema, sessionsRoutes } from "./routes/sessions.ts";
import { SimStateSchema, simRoutes } from "./routes/sim.ts";
import { systemRoutes } from "./routes/system.ts";
import { tokensRoutes } from "./routes/tokens.ts";
import { varsRoutes } from "./routes/vars.ts";
import { StatusSummarySchema } from "./status.ts";

export const ROUTES: readonly Route[] = [
  ...serviceRoutes,
  ...docsRoutes(apiDocument),
  ...dashboardRoutes,
  ...systemRoutes,
  ...tokensRoutes,
  ...mqttRoutes,
  ...evsesRoutes.slice(0, 1),
  ...varsRoutes,
  ...eventsRoutes,
  ...evsesRoutes.slice(1),
  ...sessionsRoutes,
  ...energyRoutes,
  ...controlRoutes,
  ...simRoutes,
  ...commandsRoutes,
];

/** Schemas shown once under components/schemas and referenced wherever they are used. */
function components(): Record<string, v.GenericSchema> {
  const named: Record<string, v.GenericSchema> = {
    Error: ErrorBodySchema,
    Health: HealthSchema,
    EnforcedLimits: EnforcedLimitsSchema,
    SimState: SimStateSchema,
    SessionPage: VerifiedSessionPageSchema,
    StatusSummary: StatusSummarySchema,
    Control: ControlSchema,
    MqttStatus: MqttStatusSchema,
  };
  const taken = new Set(Object.values(named));
  for (const name of VARIABLE_NAMES) if (!taken.has(VARIABLE_SCHEMAS[name])) named[`var_${name}`] = VARIABLE_SCHEMAS[name];
  return named;
}

const documents = new Map<string, Record<string, unknown>>();

/** The OpenAPI document of ROUTES; built once per version (on the first request, not at start-up). */
export function apiDocument(version: string): Record<string, unknown> {
  let doc = documents.get(version);
  if (!doc) documents.set(version, (doc = openApiDocument({ version, routes: ROUTES, components: components() })));
  return doc;
}
