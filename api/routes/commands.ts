// POST …/{i}/commands/{name}: arguments checked against interface.md (COMMAND_ARGS), then handed
// to the kernel. Refusals come before the kernel sees anything, so bad input changes nothing.
// One route for Hono, one OpenAPI operation per command (each with its own schemas).
import * as v from "valibot";
import { COMMAND_NAMES, KernelNotStartedError, type CommandName } from "../../core/kernel-api.ts";
import { COMMAND_ARGS, COMMAND_RESULTS } from "../../core/types/index.ts";
import { ApiError } from "../errors.ts";
import { route, type Route } from "../route.ts";

/** Commands the kernel answers before it has started (behavior.md §16.4). */
const BEFORE_START: readonly CommandName[] = ["get_evse", "external_ready_to_start_charging"];

export const commandsRoutes: Route[] = [
  route({
    method: "POST",
    path: "/api/v1/evses/{i}/commands/{name}",
    operationId: "command",
    summary: "A command of the evse_manager interface",
    auth: true,
    params: {
      name: {
        schema: v.picklist(COMMAND_NAMES),
        description: "The command",
        notFound: (name) => `"${name}" is not a command of the evse_manager interface`,
      },
    },
    responses: {},
    variants: {
      param: "name",
      each: COMMAND_NAMES.map((name) => ({
        value: name,
        operationId: name,
        summary: `evse_manager command ${name} (arguments and result as in EVerest evse_manager 2025.1.0)`,
        body: { schema: COMMAND_ARGS[name] as v.GenericSchema, what: `invalid arguments for ${name}`, required: false },
        responses: {
          "200": { description: "The command's result", schema: v.strictObject({ result: COMMAND_RESULTS[name] as v.GenericSchema }) },
          ...(BEFORE_START.includes(name) ? {} : { "409": { description: "The kernel has not started yet" } }),
        },
      })),
    },
    handler: () => async (c, { evse, param, body }) => {
      const name = param("name") as CommandName;
      const args = await body();
      try {
        const result = await evse.kernel.command(name, args);
        return c.json({ result: result === undefined ? null : result });
      } catch (err) {
        if (err instanceof KernelNotStartedError) throw new ApiError(409, "not_started", err.message);
        throw err;
      }
    },
  }),
];
