// POST …/{i}/commands/{name}: the body is read by the contract's rules, then api/run-command.ts
// checks the name and arguments and hands them to the kernel (the MQTT cmd topics share it).
import { Hono } from "hono";
import { isCommand, runCommand } from "../run-command.ts";
import { readJsonBody } from "../body.ts";
import { evseOf, methodNotAllowed, type ApiContext } from "../context.ts";
import { notFound } from "../errors.ts";

export function commandsRoutes(ctx: ApiContext): Hono {
  const r = new Hono();

  r.post("/:i/commands/:name", async (c) => {
    const evse = evseOf(ctx, c);
    const name = c.req.param("name");
    // An unknown name is a 404 before the body is read, as before.
    if (!isCommand(name)) throw notFound(`"${name}" is not a command of the evse_manager interface`);
    return c.json(await runCommand(evse.kernel, name, await readJsonBody(c)));
  });
  r.all("/:i/commands/:name", methodNotAllowed(["POST"]));

  return r;
}
