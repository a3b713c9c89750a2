// The system routes: POST /api/v1/system/update takes a new binary (the raw request body) with its
// detached Ed25519 signature in X-Update-Signature; ?force=true restarts into it even while a
// transaction is open. The work is update/service.ts; this file maps it to HTTP.
import * as v from "valibot";
import { TransactionWatch } from "../../update/transactions.ts";
import { SIGNATURE_HEADER, updateService } from "../../update/service.ts";
import { UpdateRejected } from "../../update/install.ts";
import { ApiError } from "../errors.ts";
import { route, type Route } from "../route.ts";

const FORCE = ["true", "1", "", "false", "0"] as const;

const UpdateAcceptedSchema = v.strictObject({
  installed: v.literal(true),
  sha256: v.pipe(v.string(), v.description("of the installed executable, hex")),
  size: v.pipe(v.number(), v.integer(), v.description("bytes")),
  restart: v.pipe(v.picklist(["now", "when_idle"]), v.description("now: at once; when_idle: after the open transactions")),
  active_transactions: v.pipe(v.array(v.pipe(v.number(), v.integer())), v.description("EVSE indexes with a transaction open")),
});

export const systemRoutes: Route[] = [
  route({
    method: "POST",
    path: "/api/v1/system/update",
    operationId: "installUpdate",
    summary: "Install a signed new executable (raw request body) and restart into it; ?force=true even while a transaction is open",
    auth: true,
    headers: [{ name: "X-Update-Signature", required: true, description: "Detached Ed25519 signature of the body, base64", schema: v.string() }],
    query: {
      // Loose: other parameters are ignored, as they always were.
      schema: v.object({ force: v.optional(v.pipe(v.picklist(FORCE), v.transform((x) => x === "true" || x === "1" || x === ""), v.boolean())) }),
      descriptions: { force: "Install and restart even while a transaction is open (true, 1 or empty; false or 0: no, the default)" },
      error: (_issues, query) => new ApiError(400, "invalid_query", `force: "${query.force}" is not true or false`, [{ path: "force", message: "must be true or false" }]),
    },
    // Streamed to disk by update/service.ts, never buffered whole.
    body: { media: "application/octet-stream", schema: v.pipe(v.string(), v.description("the new executable")), description: "The new executable, at most update.max_size_mb", required: true },
    responses: {
      "202": { description: "Accepted; the program restarts into the new executable", schema: UpdateAcceptedSchema },
      "400": { description: "Missing, malformed or non-verifying signature, an unusable executable, or a bad force value" },
      "403": { description: "No API token is configured: updates need one" },
      "409": { description: "A transaction is open and force is not set, or another update is in progress" },
      "413": { description: "Executable larger than update.max_size_mb" },
      "422": { description: "A signed executable that cannot run on this machine: its program interpreter is missing, or `--version` fails or times out" },
    },
    handler: (ctx) => {
      const transactions = new TransactionWatch();
      for (const evse of ctx.evses) {
        for (const p of evse.publications.since(0) ?? []) transactions.observe(evse.index, p.name, p.value);
        evse.publications.onPublish((p) => transactions.observe(evse.index, p.name, p.value));
      }
      return async (c, { query }) => {
        if (ctx.token === null) {
          throw new ApiError(403, "token_required", "updates need an API token: set api.token in the config or EVSE_API_TOKEN");
        }
        const force = query().force ?? false;
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
      };
    },
  }),
];
