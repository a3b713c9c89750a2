// GET …/{i}/sessions?limit=&before=: the EVSE's session history, newest first, one page at a time
// (store/session-summary.ts). Product extension beside http-api.md; same auth and error rules.
// Each session also says whether its OCMF start and stop records verify against the meter's
// published key (`powermeter_public_key_ocmf`), so a reader need not run a transparency tool to
// see that the billing records are intact.
import * as v from "valibot";
import { SessionPageSchema, SessionQuerySchema, SessionSummarySchema, type SessionSummary } from "../../store/index.ts";
import { verifyOcmfRecord } from "../../sim/meter/ocmf-public-key.ts";
import { ApiError } from "../errors.ts";
import { route, type Route } from "../route.ts";

/** true / false: the record does / does not verify; null: no record, or no published key. */
const Verdict = v.nullable(v.boolean());

export const OcmfVerifiedSchema = v.strictObject({ start: Verdict, stop: Verdict });
export type OcmfVerified = v.InferOutput<typeof OcmfVerifiedSchema>;

/** The answer's sessions: the stored summary plus `ocmf_verified` (an addition, documented in OpenAPI). */
export const VerifiedSessionPageSchema = v.strictObject({
  sessions: v.array(v.strictObject({ ...SessionSummarySchema.entries, ocmf_verified: OcmfVerifiedSchema })),
  next_before: SessionPageSchema.entries.next_before,
});

async function verdict(record: { signed_meter_data: string } | null, key: string | null): Promise<boolean | null> {
  if (!record || !key) return null;
  try {
    return (await verifyOcmfRecord(record.signed_meter_data, key)).verified === true;
  } catch {
    return false; // a published key that does not decode verifies nothing
  }
}

export async function verifySession(s: SessionSummary, key: string | null): Promise<OcmfVerified> {
  const [start, stop] = await Promise.all([verdict(s.start_signed_meter_value, key), verdict(s.signed_meter_value, key)]);
  return { start, stop };
}

export const sessionsRoutes: Route[] = [
  route({
    method: "GET",
    path: "/api/v1/evses/{i}/sessions",
    operationId: "listSessions",
    summary:
      "Session history, newest first: energy, durations, reasons, the OCMF records at transaction start and stop, and ocmf_verified: whether each record verifies against the published powermeter_public_key_ocmf (null: no record or no key)",
    auth: true,
    query: {
      schema: SessionQuerySchema,
      what: "invalid session query",
      descriptions: { limit: "Sessions per page", before: "Only sessions older than this id: the next_before of the previous page" },
    },
    responses: {
      "200": { description: "One page of sessions", schema: VerifiedSessionPageSchema },
      "400": { description: "limit or before is not a whole number in range, or an unknown query parameter" },
      "404": { description: "Unknown EVSE, or an EVSE that keeps no session history" },
    },
    handler: () => async (c, { evse, query }) => {
      const q = query();
      if (!evse.sessions) throw new ApiError(404, "not_found", `EVSE ${evse.index} keeps no session history`);
      const page = evse.sessions.listSessions(q);
      const published = evse.publications.value("powermeter_public_key_ocmf");
      const key = typeof published === "string" && published !== "" ? published : null;
      const sessions = await Promise.all(page.sessions.map(async (s) => ({ ...s, ocmf_verified: await verifySession(s, key) })));
      return c.json({ ...page, sessions });
    },
  }),
];
