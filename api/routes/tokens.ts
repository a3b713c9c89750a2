// POST /api/v1/tokens: a token is presented (RFID reader, display, dashboard, test) and goes through
// the authorization front end (ocpp.md §2). GET /api/v1/ocpp: the CSMS connection (§9).
import * as v from "valibot";
import { AuthorizationTypeSchema, IdTokenSchema } from "../../core/types/index.ts";
import { ApiError } from "../errors.ts";
import { route, type Route } from "../route.ts";

export const TokenRequestSchema = v.strictObject({
  id_token: IdTokenSchema,
  authorization_type: v.optional(AuthorizationTypeSchema, "RFID"),
  evse: v.optional(v.pipe(v.number(), v.integer("must be an integer"), v.minValue(1, "must be at least 1"))),
});

const TokenResultSchema = v.strictObject({
  result: v.picklist(["Authorized", "Stopped", "Rejected", "NoConnectorAvailable", "AlreadyInProcess"]),
  authorization_status: v.nullable(v.picklist(["Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"])),
  evse: v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1))),
});

const OcppVisibilitySchema = v.strictObject({
  configured: v.boolean(),
  connected: v.boolean(),
  registration: v.nullable(v.picklist(["Accepted", "Pending", "Rejected"])),
  queued_transaction_messages: v.pipe(v.number(), v.integer(), v.minValue(0)),
  last_error: v.nullable(v.string()),
});

const ConnectorStatusesSchema = v.array(v.strictObject({ connector_id: v.pipe(v.number(), v.integer()), status: v.string(), error_code: v.string() }));

export const tokensRoutes: Route[] = [
  route({
    method: "POST",
    path: "/api/v1/tokens",
    operationId: "presentToken",
    summary: "Present a token (RFID reader, display, dashboard): stops the transaction it or its group runs, or is validated (local list, cache, Authorize.req, auth.tokens) and authorizes an EVSE",
    auth: true,
    body: { schema: TokenRequestSchema, what: "invalid token request" },
    responses: {
      "200": { description: "What happened", schema: TokenResultSchema },
      "409": { description: "The kernel has not started yet, or no authorization front end runs in this process" },
    },
    handler: (ctx) => async (c, { body }) => {
      const front = ctx.frontEnd;
      if (!front) throw new ApiError(409, "not_available", "no authorization front end runs in this process");
      const req = await body();
      if (req.evse !== undefined && req.evse > ctx.evses.length) {
        throw new ApiError(400, "invalid_body", `invalid token request: evse: there ${ctx.evses.length === 1 ? "is 1 EVSE" : `are ${ctx.evses.length} EVSEs`}`, [{ path: "evse", message: `must be at most ${ctx.evses.length}` }]);
      }
      if (!ctx.evses.every((e) => e.kernel.started())) throw new ApiError(409, "not_started", "the kernel has not started yet");
      const result = await front.tokens.present({ id_token: req.id_token, authorization_type: req.authorization_type, ...(req.evse !== undefined ? { evse: req.evse } : {}) });
      return c.json(result);
    },
  }),
  route({
    method: "GET",
    path: "/api/v1/ocpp",
    operationId: "getOcpp",
    summary: "The OCPP 1.6J connection to the CSMS",
    auth: true,
    responses: { "200": { description: "Connection state", schema: OcppVisibilitySchema } },
    handler: (ctx) => (c) => c.json(ctx.frontEnd?.visibility() ?? { configured: false, connected: false, registration: null, queued_transaction_messages: 0, last_error: null }),
  }),
  route({
    method: "GET",
    path: "/api/v1/ocpp/connectors",
    operationId: "listOcppConnectors",
    // Not in the contract: each connector's OCPP status for the dashboard.
    summary: "Each OCPP connector's status as last computed (connector 0 is the charge point); empty without OCPP",
    auth: true,
    responses: { "200": { description: "Statuses", schema: ConnectorStatusesSchema } },
    handler: (ctx) => (c) => c.json(ctx.frontEnd?.connectorStatuses() ?? []),
  }),
];
