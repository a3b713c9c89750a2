// The system routes: POST /api/v1/system/update takes a new binary (the raw request body) with its
// detached Ed25519 signature in X-Update-Signature; ?force=true restarts into it even while a
// transaction is open. The work is update/service.ts; this file maps it to HTTP.
import { Hono } from "hono";
import { TransactionWatch } from "../../update/transactions.ts";
import { SIGNATURE_HEADER, updateService } from "../../update/service.ts";
import { UpdateRejected } from "../../update/install.ts";
import { methodNotAllowed, type ApiContext } from "../context.ts";
import { ApiError } from "../errors.ts";

function forceOf(raw: string | undefined): boolean {
  if (raw === undefined || raw === "false" || raw === "0") return false;
  if (raw === "true" || raw === "1" || raw === "") return true;
  throw new ApiError(400, "invalid_query", `force: "${raw}" is not true or false`, [{ path: "force", message: "must be true or false" }]);
}

export function systemRoutes(ctx: ApiContext): Hono {
  const r = new Hono();
  const transactions = new TransactionWatch();
  for (const evse of ctx.evses) {
    for (const p of evse.publications.since(0) ?? []) transactions.observe(evse.index, p.name, p.value);
    evse.publications.onPublish((p) => transactions.observe(evse.index, p.name, p.value));
  }

  r.post("/update", async (c) => {
    if (ctx.token === null) {
      throw new ApiError(403, "token_required", "updates need an API token: set api.token in the config or EVSE_API_TOKEN");
    }
    const force = forceOf(c.req.query("force"));
    try {
      const result = await updateService().receive(
        {
          body: c.req.raw.body,
          signature: c.req.header(SIGNATURE_HEADER),
          contentLength: c.req.header("content-length"),
          force,
        },
        transactions,
      );
      return c.json(result, 202);
    } catch (err) {
      if (err instanceof UpdateRejected) throw new ApiError(err.status, err.code, err.message);
      throw err;
    }
  });
  r.all("/update", methodNotAllowed(["POST"]));
  return r;
}
