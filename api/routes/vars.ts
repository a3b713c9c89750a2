// GET …/{i}/vars and …/vars/{name}: the last published value of each interface variable.
import { Hono } from "hono";
import { VARIABLE_NAMES, type VariableName } from "../../core/kernel-api.ts";
import { evseOf, methodNotAllowed, type ApiContext } from "../context.ts";
import { notFound } from "../errors.ts";

const isVariable = (name: string): name is VariableName => (VARIABLE_NAMES as readonly string[]).includes(name);

export function varsRoutes(ctx: ApiContext): Hono {
  const r = new Hono();

  r.get("/:i/vars", (c) => c.body(evseOf(ctx, c).publications.valuesJson(), 200, { "content-type": "application/json" }));
  r.all("/:i/vars", methodNotAllowed(["GET"]));

  r.get("/:i/vars/:name", (c) => {
    const evse = evseOf(ctx, c);
    const name = c.req.param("name");
    if (!isVariable(name)) throw notFound(`"${name}" is not a variable of the evse_manager interface`);
    return c.json(evse.publications.value(name) as never);
  });
  r.all("/:i/vars/:name", methodNotAllowed(["GET"]));

  return r;
}
