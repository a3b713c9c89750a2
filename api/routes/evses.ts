// GET /api/v1/evses and GET …/{i}/errors: what EVSEs exist and what is wrong with them now.
import * as v from "valibot";
import { ActiveErrorSchema, ConnectorSchema } from "../../core/types/index.ts";
import { route, type Route } from "../route.ts";

export const EvseListSchema = v.array(
  v.strictObject({
    index: v.pipe(v.number(), v.integer(), v.description("the {i} of this EVSE's routes")),
    evse_id: v.pipe(v.nullable(v.string()), v.description("the evse_id variable; null before it is published")),
    connectors: v.pipe(v.array(ConnectorSchema), v.description("as get_evse answers")),
  }),
);

export const evsesRoutes: Route[] = [
  route({
    method: "GET",
    path: "/api/v1/evses",
    operationId: "listEvses",
    summary: "The EVSEs of this process",
    auth: true,
    responses: { "200": { description: "One object per EVSE", schema: EvseListSchema } },
    handler: (ctx) => async (c) => {
      const list = [];
      for (const evse of ctx.evses) {
        // get_evse is answered before the kernel has started (behavior.md §16.4), so this never 409s.
        const info = (await evse.kernel.command("get_evse", {})) as { connectors?: unknown } | null;
        list.push({ index: evse.index, evse_id: evse.publications.value("evse_id"), connectors: info?.connectors ?? [] });
      }
      return c.json(list);
    },
  }),
  route({
    method: "GET",
    path: "/api/v1/evses/{i}/errors",
    operationId: "listErrors",
    summary: "Active errors",
    auth: true,
    responses: { "200": { description: "Active errors", schema: v.array(ActiveErrorSchema) } },
    handler: () => (c, { evse }) => c.json(evse.kernel.errors()),
  }),
];
