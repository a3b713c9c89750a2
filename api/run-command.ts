// One command call as the contract defines it, shared by POST …/commands/{name} and the MQTT
// topic …/cmd/<command>: the name is checked, the arguments against interface.md (COMMAND_ARGS),
// then the kernel runs it. Refusals come before the kernel sees anything, so bad input changes
// nothing, and both protocols refuse with the same ApiError.
import * as v from "valibot";
import { COMMAND_NAMES, KernelNotStartedError, type CommandName, type EvseKernel } from "../core/kernel-api.ts";
import { COMMAND_ARGS } from "../core/types/index.ts";
import { refuseArrayAsObject } from "./array-as-object.ts";
import { requireObject } from "./body.ts";
import { ApiError, notFound, validationError } from "./errors.ts";

export const isCommand = (name: string): name is CommandName => (COMMAND_NAMES as readonly string[]).includes(name);

/** Resolves with the answer body `{"result": …}`; throws ApiError on refusal. */
export async function runCommand(kernel: Pick<EvseKernel, "command">, name: string, body: unknown): Promise<{ result: unknown }> {
  if (!isCommand(name)) throw notFound(`"${name}" is not a command of the evse_manager interface`);
  const args = requireObject(body);
  const parsed = v.safeParse(COMMAND_ARGS[name] as v.GenericSchema, args, { abortEarly: false });
  if (!parsed.success) throw validationError(`invalid arguments for ${name}`, parsed.issues);
  refuseArrayAsObject(`invalid arguments for ${name}`, args, parsed.output);
  try {
    const result = await kernel.command(name, parsed.output as Record<string, unknown>);
    return { result: result === undefined ? null : result };
  } catch (err) {
    if (err instanceof KernelNotStartedError) throw new ApiError(409, "not_started", err.message);
    throw err;
  }
}
