// POST …/{i}/commands/{name}: the body is read by the contract's rules, then api/run-command.ts
// checks the arguments against interface.md (COMMAND_ARGS) and hands them to the kernel (the MQTT
// cmd topics share it). One route for Hono, one OpenAPI operation per command, each with its own
// argument and result schema.
import * as v from "valibot";
import { COMMAND_NAMES, type CommandName } from "../../core/kernel-api.ts";
import { COMMAND_ARGS, COMMAND_RESULTS } from "../../core/types/index.ts";
import { route, type Route } from "../route.ts";
import { runCommand } from "../run-command.ts";

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
    // The name was checked (404) before the body is read; runCommand validates with COMMAND_ARGS.
    handler: () => async (c, { evse, param, json }) => c.json(await runCommand(evse.kernel, param("name"), await json())),
  }),
];
