// POST /api/v1/tokens: a token is presented (RFID reader, display, dashboard, test) and goes through
// the authorization front end (ocpp.md §2). GET /api/v1/ocpp: the CSMS connection (§9).
import { Hono } from "hono";
import * as v from "valibot";
import { AuthorizationTypeSchema, IdTokenSchema } from "../../core/types/index.ts";
import { readJsonObject } from "../body.ts";
import { methodNotAllowed, type ApiContext } from "../context.ts";
import { ApiError, validationError } from "../errors.ts";

export const TokenRequestSchema = v.strictObject({
  id_token: IdTokenSchema,
  authorization_type: v.optional(AuthorizationTypeSchema, "RFID"),
  evse: v.optional(v.pipe(v.number(), v.integer("must be an integer"), v.minValue(1, "must be at least 1"))),
});

export function tokensRoutes(ctx: ApiContext): Hono {
  const r = new Hono();
  r.post("/tokens", async (c) => {
    const front = ctx.frontEnd;
    if (!front) throw new ApiError(409, "not_available", "no authorization front end runs in this process");
    const body = await readJsonObject(c);
    const parsed = v.safeParse(TokenRequestSchema, body, { abortEarly: false });
    if (!parsed.success) throw validationError("invalid token request", parsed.issues);
    const req = parsed.output;
    if (req.evse !== undefined && req.evse > ctx.evses.length) {
      throw new ApiError(400, "invalid_body", `invalid token request: evse: there ${ctx.evses.length === 1 ? "is 1 EVSE" : `are ${ctx.evses.length} EVSEs`}`, [{ path: "evse", message: `must be at most ${ctx.evses.length}` }]);
    }
    if (!ctx.evses.every((e) => e.kernel.started())) throw new ApiError(409, "not_started", "the kernel has not started yet");
    const result = await front.tokens.present({ id_token: req.id_token, authorization_type: req.authorization_type, ...(req.evse !== undefined ? { evse: req.evse } : {}) });
    return c.json(result);
  });
  r.all("/tokens", methodNotAllowed(["POST"]));

  r.get("/ocpp", (c) => c.json(ctx.frontEnd?.visibility() ?? { configured: false, connected: false, registration: null, queued_transaction_messages: 0, last_error: null }));
  r.all("/ocpp", methodNotAllowed(["GET"]));
  // Not in the contract: each connector's OCPP status for the dashboard.
  r.get("/ocpp/connectors", (c) => c.json(ctx.frontEnd?.connectorStatuses() ?? []));
  r.all("/ocpp/connectors", methodNotAllowed(["GET"]));
  return r;
}
