// GET /api/v1/evses and GET …/{i}/errors: what EVSEs exist and what is wrong with them now.
import { Hono } from "hono";
import { evseOf, methodNotAllowed, type ApiContext } from "../context.ts";

export function evsesRoutes(ctx: ApiContext): Hono {
  const r = new Hono();

  r.get("/", async (c) => {
    const list = [];
    for (const evse of ctx.evses) {
      // get_evse is answered before the kernel has started (behavior.md §16.4), so this never 409s.
      const info = (await evse.kernel.command("get_evse", {})) as { connectors?: unknown } | null;
      list.push({ index: evse.index, evse_id: evse.publications.value("evse_id"), connectors: info?.connectors ?? [] });
    }
    return c.json(list);
  });
  r.all("/", methodNotAllowed(["GET"]));

  r.get("/:i/errors", (c) => c.json(evseOf(ctx, c).kernel.errors()));
  r.all("/:i/errors", methodNotAllowed(["GET"]));

  return r;
}
