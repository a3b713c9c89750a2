// The simulated board: GET …/sim, POST/DELETE …/sim/car (http-api.md "Simulated board"), and the
// product's run-time knob POST …/sim/board {"weld_relays": bool} (simulation.md §5 item 6).
// Every route is 409 on a real board; the POST bodies are checked before that rule.
import { Hono } from "hono";
import * as v from "valibot";
import type { SimControl } from "../../rt-worker/board-handle.ts";
import { readJsonObject } from "../body.ts";
import { evseOf, methodNotAllowed, type ApiContext, type EvseRuntime } from "../context.ts";
import { ApiError, validationError } from "../errors.ts";

export const CarScriptBodySchema = v.strictObject({
  script: v.string(),
  replace: v.optional(v.boolean()),
});

export const SimBoardBodySchema = v.strictObject({
  weld_relays: v.boolean(),
});

function simOf(evse: EvseRuntime): SimControl {
  if (!evse.board.sim) throw new ApiError(409, "not_simulated", `EVSE ${evse.index} runs on a real board, not the simulated one`);
  return evse.board.sim;
}

/** Errors of sim/car are matched by name so the API does not depend on the car's internals. */
const isNamed = (err: unknown, name: string): err is Error => err instanceof Error && err.name === name;

export function simRoutes(ctx: ApiContext): Hono {
  const r = new Hono();

  r.get("/:i/sim", (c) => c.json(simOf(evseOf(ctx, c)).state()));
  r.all("/:i/sim", methodNotAllowed(["GET"]));

  r.post("/:i/sim/car", async (c) => {
    const evse = evseOf(ctx, c);
    const parsed = v.safeParse(CarScriptBodySchema, await readJsonObject(c), { abortEarly: false });
    if (!parsed.success) throw validationError("invalid car script request", parsed.issues);
    const sim = simOf(evse);
    try {
      sim.postScript(parsed.output.script, parsed.output.replace ?? false);
    } catch (err) {
      if (isNamed(err, "CarScriptError")) {
        throw new ApiError(400, "invalid_script", err.message, [{ path: "script", message: err.message }]);
      }
      if (isNamed(err, "CarBusyError")) throw new ApiError(409, "car_busy", err.message);
      throw err;
    }
    return c.json({ accepted: true }, 202);
  });
  r.delete("/:i/sim/car", (c) => {
    simOf(evseOf(ctx, c)).stopScript();
    return c.json({ stopped: true });
  });
  r.all("/:i/sim/car", methodNotAllowed(["POST", "DELETE"]));

  r.post("/:i/sim/board", async (c) => {
    const evse = evseOf(ctx, c);
    const parsed = v.safeParse(SimBoardBodySchema, await readJsonObject(c), { abortEarly: false });
    if (!parsed.success) throw validationError("invalid simulated-board settings", parsed.issues);
    simOf(evse).setWeldRelays(parsed.output.weld_relays);
    return c.json({ weld_relays: parsed.output.weld_relays });
  });
  r.all("/:i/sim/board", methodNotAllowed(["POST"]));

  return r;
}
