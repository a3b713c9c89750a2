// GET …/{i}/sessions?limit=&before=: the EVSE's session history, newest first, one page at a time
// (store/session-summary.ts). Product extension beside http-api.md; same auth and error rules.
import { SessionPageSchema, SessionQuerySchema } from "../../store/index.ts";
import { ApiError } from "../errors.ts";
import { route, type Route } from "../route.ts";

export const sessionsRoutes: Route[] = [
  route({
    method: "GET",
    path: "/api/v1/evses/{i}/sessions",
    operationId: "listSessions",
    summary: "Session history, newest first: energy, durations, reasons and the OCMF records at transaction start and stop",
    auth: true,
    query: {
      schema: SessionQuerySchema,
      what: "invalid session query",
      descriptions: { limit: "Sessions per page", before: "Only sessions older than this id: the next_before of the previous page" },
    },
    responses: {
      "200": { description: "One page of sessions", schema: SessionPageSchema },
      "400": { description: "limit or before is not a whole number in range, or an unknown query parameter" },
      "404": { description: "Unknown EVSE, or an EVSE that keeps no session history" },
    },
    handler: () => (c, { evse, query }) => {
      const q = query();
      if (!evse.sessions) throw new ApiError(404, "not_found", `EVSE ${evse.index} keeps no session history`);
      return c.json(evse.sessions.listSessions(q));
    },
  }),
];
