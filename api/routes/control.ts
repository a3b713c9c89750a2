// GET …/{i}/status and PUT …/{i}/control (integration.md §1–2).
import { ControlSchema, applyControl } from "../control.ts";
import { route, type Route } from "../route.ts";
import { StatusSummarySchema, statusSummary } from "../status.ts";

export const controlRoutes: Route[] = [
  route({
    method: "GET",
    path: "/api/v1/evses/{i}/status",
    operationId: "getStatus",
    summary: "Status summary for energy managers: state, CP, plug, charging, limits, phases, meter values, session, errors",
    auth: true,
    responses: { "200": { description: "The status summary", schema: StatusSummarySchema } },
    handler: () => (c, { evse }) => c.json(statusSummary(evse)),
  }),
  route({
    method: "PUT",
    path: "/api/v1/evses/{i}/control",
    operationId: "putControl",
    summary:
      "Local control: enabled (enable_disable as LocalAPI), max_current_A (standing limit; 0 pauses, 6…hardware maximum, null removes it; persisted), phases (1 or 3). Any PUT refreshes the control.failsafe_timeout_s timer",
    auth: true,
    // Validated by applyControl, which the MQTT bridge shares; the body is any JSON there.
    body: { schema: ControlSchema, what: "invalid control request" },
    responses: {
      "200": { description: "Applied; the status summary afterwards", schema: StatusSummarySchema },
      "409": { description: "Phase switch the hardware cannot make (while charging, or more phases than it has), or enabled/phases before the kernel has started" },
    },
    handler: () => async (c, { evse, json }) => c.json(await applyControl(evse, await json())),
  }),
];
