// GET …/{i}/vars and …/vars/{name}: the last published value of each interface variable.
import * as v from "valibot";
import { VARIABLE_NAMES, type VariableName } from "../../core/kernel-api.ts";
import { VARIABLE_SCHEMAS } from "../../core/types/index.ts";
import { route, type Route } from "../route.ts";

/** A variable's value as the API shows it: null until it is first published. */
const published = (name: VariableName) => v.nullable(VARIABLE_SCHEMAS[name]);

export const VariablesSchema = v.strictObject(Object.fromEntries(VARIABLE_NAMES.map((n) => [n, published(n)])) as unknown as Record<VariableName, v.GenericSchema>);

export const varsRoutes: Route[] = [
  route({
    method: "GET",
    path: "/api/v1/evses/{i}/vars",
    operationId: "getVariables",
    summary: "Every variable's last published value (null if never published)",
    auth: true,
    responses: { "200": { description: `All ${VARIABLE_NAMES.length} variables`, schema: VariablesSchema } },
    handler: () => (c, { evse }) => c.body(evse.publications.valuesJson(), 200, { "content-type": "application/json" }),
  }),
  route({
    method: "GET",
    path: "/api/v1/evses/{i}/vars/{name}",
    operationId: "getVariable",
    summary: "One variable's last published value, null if never published",
    auth: true,
    params: {
      name: {
        schema: v.picklist(VARIABLE_NAMES),
        description: "A variable of the evse_manager interface",
        notFound: (name) => `"${name}" is not a variable of the evse_manager interface`,
      },
    },
    responses: {
      "200": {
        description: "The value; its schema is the variable's (components var_<name>), or null",
        schema: v.pipe(v.union([...VARIABLE_NAMES.map((n) => VARIABLE_SCHEMAS[n]), v.null()]), v.description("the named variable's value, or null if never published")),
      },
    },
    handler: () => (c, { evse, param }) => c.json(evse.publications.value(param("name") as VariableName) as never),
  }),
];
