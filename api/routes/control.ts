// GET …/{i}/status and PUT …/{i}/control (integration.md §1–2).
import { Hono } from "hono";
import { readJsonBody } from "../body.ts";
import { evseOf, methodNotAllowed, type ApiContext } from "../context.ts";
import { applyControl } from "../control.ts";
import { statusSummary } from "../status.ts";

export function controlRoutes(ctx: ApiContext): Hono {
  const r = new Hono();

  r.get("/:i/status", (c) => c.json(statusSummary(evseOf(ctx, c))));
  r.all("/:i/status", methodNotAllowed(["GET"]));

  r.put("/:i/control", async (c) => {
    const evse = evseOf(ctx, c);
    return c.json(await applyControl(evse, await readJsonBody(c)));
  });
  r.all("/:i/control", methodNotAllowed(["PUT"]));

  return r;
}
