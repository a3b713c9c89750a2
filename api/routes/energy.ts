// POST …/{i}/energy/enforce_limits: what an energy manager sends (interface.md EnforcedLimits).
import { Hono } from "hono";
import * as v from "valibot";
import { EnforcedLimitsSchema } from "../../core/types/index.ts";
import { refuseArrayAsObject } from "../array-as-object.ts";
import { readJsonObject } from "../body.ts";
import { evseOf, methodNotAllowed, type ApiContext } from "../context.ts";
import { validationError } from "../errors.ts";

export function energyRoutes(ctx: ApiContext): Hono {
  const r = new Hono();

  r.post("/:i/energy/enforce_limits", async (c) => {
    const evse = evseOf(ctx, c);
    const body = await readJsonObject(c);
    const parsed = v.safeParse(EnforcedLimitsSchema, body, { abortEarly: false });
    if (!parsed.success) throw validationError("invalid EnforcedLimits", parsed.issues);
    refuseArrayAsObject("invalid EnforcedLimits", body, parsed.output);
    await evse.kernel.enforceLimits(parsed.output);
    return c.json({ result: null });
  });
  r.all("/:i/energy/enforce_limits", methodNotAllowed(["POST"]));

  return r;
}
