// The simulated board: GET …/sim, POST/DELETE …/sim/car (http-api.md "Simulated board"), and the
// product's run-time knob POST …/sim/board {"weld_relays": bool} (simulation.md §5 item 6).
// Every route is 409 on a real board; the POST bodies are checked before that rule.
import * as v from "valibot";
import type { SimControl } from "../../rt-worker/board-handle.ts";
import type { EvseRuntime } from "../context.ts";
import { ApiError } from "../errors.ts";
import { route, type Route } from "../route.ts";

export const CarScriptBodySchema = v.strictObject({
  script: v.pipe(v.string(), v.description("a car script (docs/car-scripts.md)")),
  replace: v.pipe(v.optional(v.boolean()), v.description("true replaces a running script; otherwise that is a 409")),
});

export const SimBoardBodySchema = v.strictObject({
  weld_relays: v.pipe(v.boolean(), v.description("the relays stay closed when told to open, until set false")),
});

const PhaseValues = v.strictObject({ L1: v.number(), L2: v.number(), L3: v.number() });

/** What GET …/sim answers (rt-worker/board-handle.ts SimState). */
export const SimStateSchema = v.strictObject({
  cp_state: v.picklist(["A", "B", "C", "D", "E", "F"]),
  pwm_duty_percent: v.nullable(v.number()),
  relays_closed: v.boolean(),
  phases: v.picklist([1, 3]),
  locked: v.boolean(),
  rcd_current_mA: v.number(),
  meter: v.strictObject({ energy_Wh_import: v.number(), power_W: v.number(), current_A: PhaseValues, voltage_V: PhaseValues }),
  car: v.strictObject({ running: v.boolean(), script: v.nullable(v.string()), state: v.string() }),
});

function simOf(evse: EvseRuntime): SimControl {
  if (!evse.board.sim) throw new ApiError(409, "not_simulated", `EVSE ${evse.index} runs on a real board, not the simulated one`);
  return evse.board.sim;
}

/** Errors of sim/car are matched by name so the API does not depend on the car's internals. */
const isNamed = (err: unknown, name: string): err is Error => err instanceof Error && err.name === name;

const notSimulated = { description: "Not a simulated board" };

export const simRoutes: Route[] = [
  route({
    method: "GET",
    path: "/api/v1/evses/{i}/sim",
    operationId: "getSimState",
    summary: "Simulated board state",
    auth: true,
    responses: { "200": { description: "Board state", schema: SimStateSchema }, "409": notSimulated },
    handler: () => (c, { evse }) => c.json(simOf(evse).state()),
  }),
  route({
    method: "POST",
    path: "/api/v1/evses/{i}/sim/car",
    operationId: "startCarScript",
    summary: "Start a car script (or replace the running one)",
    auth: true,
    body: { schema: CarScriptBodySchema, what: "invalid car script request" },
    responses: {
      "202": { description: "Script started", schema: v.strictObject({ accepted: v.literal(true) }) },
      "400": { description: "Malformed JSON, a field the schema refuses, or a script that does not parse (invalid_script, naming the command)" },
      "409": { description: "A script runs and replace is not true, or not a simulated board" },
    },
    handler: () => async (c, { evse, body }) => {
      const { script, replace } = await body();
      const sim = simOf(evse);
      try {
        sim.postScript(script, replace ?? false);
      } catch (err) {
        if (isNamed(err, "CarScriptError")) {
          throw new ApiError(400, "invalid_script", err.message, [{ path: "script", message: err.message }]);
        }
        if (isNamed(err, "CarBusyError")) throw new ApiError(409, "car_busy", err.message);
        throw err;
      }
      return c.json({ accepted: true }, 202);
    },
  }),
  route({
    method: "DELETE",
    path: "/api/v1/evses/{i}/sim/car",
    operationId: "stopCarScript",
    summary: "Stop the running car script; the car stays as it is",
    auth: true,
    responses: { "200": { description: "Stopped", schema: v.strictObject({ stopped: v.literal(true) }) }, "409": notSimulated },
    handler: () => (c, { evse }) => {
      simOf(evse).stopScript();
      return c.json({ stopped: true });
    },
  }),
  route({
    method: "POST",
    path: "/api/v1/evses/{i}/sim/board",
    operationId: "setSimBoard",
    summary: "Run-time simulated-board knobs (sim.weld_relays)",
    auth: true,
    body: { schema: SimBoardBodySchema, what: "invalid simulated-board settings" },
    responses: { "200": { description: "Applied", schema: SimBoardBodySchema }, "409": notSimulated },
    handler: () => async (c, { evse, body }) => {
      const { weld_relays } = await body();
      simOf(evse).setWeldRelays(weld_relays);
      return c.json({ weld_relays });
    },
  }),
];
