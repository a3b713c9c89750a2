// POST …/{i}/energy/enforce_limits: what an energy manager sends (interface.md EnforcedLimits).
import * as v from "valibot";
import { EnforcedLimitsSchema } from "../../core/types/index.ts";
import { route, type Route } from "../route.ts";

export const energyRoutes: Route[] = [
  route({
    method: "POST",
    path: "/api/v1/evses/{i}/energy/enforce_limits",
    operationId: "enforceLimits",
    summary: "Apply limits from an energy manager",
    auth: true,
    body: { schema: EnforcedLimitsSchema, what: "invalid EnforcedLimits" },
    responses: { "200": { description: "Applied", schema: v.strictObject({ result: v.null() }) } },
    handler: () => async (c, { evse, body }) => {
      await evse.kernel.enforceLimits(await body());
      return c.json({ result: null });
    },
  }),
];
