// POST …/{i}/commands/{name}: arguments checked against interface.md (COMMAND_ARGS), then handed
// to the kernel. Refusals come before the kernel sees anything, so bad input changes nothing.
import { Hono } from "hono";
import * as v from "valibot";
import { COMMAND_NAMES, KernelNotStartedError, type CommandName } from "../../core/kernel-api.ts";
import { COMMAND_ARGS } from "../../core/types/index.ts";
import { refuseArrayAsObject } from "../array-as-object.ts";
import { readJsonObject } from "../body.ts";
import { evseOf, methodNotAllowed, type ApiContext } from "../context.ts";
import { ApiError, notFound, validationError } from "../errors.ts";

const isCommand = (name: string): name is CommandName => (COMMAND_NAMES as readonly string[]).includes(name);

export function commandsRoutes(ctx: ApiContext): Hono {
  const r = new Hono();

  r.post("/:i/commands/:name", async (c) => {
    const evse = evseOf(ctx, c);
    const name = c.req.param("name");
    if (!isCommand(name)) throw notFound(`"${name}" is not a command of the evse_manager interface`);
    const body = await readJsonObject(c);
    const parsed = v.safeParse(COMMAND_ARGS[name] as v.GenericSchema, body, { abortEarly: false });
    if (!parsed.success) throw validationError(`invalid arguments for ${name}`, parsed.issues);
    refuseArrayAsObject(`invalid arguments for ${name}`, body, parsed.output);
    try {
      const result = await evse.kernel.command(name, parsed.output as Record<string, unknown>);
      return c.json({ result: result === undefined ? null : result });
    } catch (err) {
      if (err instanceof KernelNotStartedError) throw new ApiError(409, "not_started", err.message);
      throw err;
    }
  });
  r.all("/:i/commands/:name", methodNotAllowed(["POST"]));

  return r;
}
