// GET …/{i}/sessions?limit=&before=: the EVSE's session history, newest first, one page at a time
// (store/session-summary.ts). Product extension beside http-api.md; same auth and error rules.
import { Hono } from "hono";
import * as v from "valibot";
import { SessionQuerySchema } from "../../store/index.ts";
import { evseOf, methodNotAllowed, type ApiContext } from "../context.ts";
import { ApiError, validationError } from "../errors.ts";

export function sessionsRoutes(ctx: ApiContext): Hono {
  const r = new Hono();

  r.get("/:i/sessions", (c) => {
    const evse = evseOf(ctx, c);
    const parsed = v.safeParse(SessionQuerySchema, c.req.query(), { abortEarly: false });
    if (!parsed.success) throw validationError("invalid session query", parsed.issues, "invalid_query");
    if (!evse.sessions) throw new ApiError(404, "not_found", `EVSE ${evse.index} keeps no session history`);
    return c.json(evse.sessions.listSessions(parsed.output));
  });
  r.all("/:i/sessions", methodNotAllowed(["GET"]));

  return r;
}
