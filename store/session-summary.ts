// The session history as the API serves it (GET /api/v1/evses/{i}/sessions): one closed object
// per session, newest first, and the paging query. Product extension; http-api.md has no such route.
import * as v from "valibot";
import {
  int,
  PowermeterSchema,
  ProvidedIdTokenSchema,
  SignedMeterValueSchema,
  StartSessionReasonSchema,
  StopTransactionReasonSchema,
} from "../core/types/index.ts";

/** `active` until SessionFinished; `interrupted` when the process died during the session
 * (its transaction finished at the next boot with PowerLoss, or a newer session started). */
export const SessionStateSchema = v.picklist(["active", "finished", "interrupted"]);
export type SessionState = v.InferOutput<typeof SessionStateSchema>;

const time = () => v.nullable(v.string());

export const SessionSummarySchema = v.strictObject({
  /** Position in the history; pass it as `before` to get the older page. */
  id: int(),
  evse: int(),
  uuid: v.string(),
  state: SessionStateSchema,
  started_at: time(),
  started_by: v.nullable(StartSessionReasonSchema),
  /** The transaction's token, else the token that opened the session (authorization first). */
  id_tag: v.nullable(ProvidedIdTokenSchema),
  reservation_id: v.nullable(int()),
  transaction_started_at: time(),
  transaction_finished_at: time(),
  start_meter_value: v.nullable(PowermeterSchema),
  /** The closing reading; while the transaction runs, the latest persisted one. */
  stop_meter_value: v.nullable(PowermeterSchema),
  /** energy_Wh_import.total at stop minus at start. */
  energy_Wh: v.nullable(v.number()),
  /** Session duration; null while the session is open or when its end is unknown. */
  duration_s: v.nullable(v.number()),
  transaction_duration_s: v.nullable(v.number()),
  stop_reason: v.nullable(StopTransactionReasonSchema),
  /** transaction_finished.id_tag: who stopped the transaction, when a token did. */
  stop_id_tag: v.nullable(ProvidedIdTokenSchema),
  /** OCMF records of the billing meter at transaction start and stop. */
  start_signed_meter_value: v.nullable(SignedMeterValueSchema),
  signed_meter_value: v.nullable(SignedMeterValueSchema),
  finished_at: time(),
});
export type SessionSummary = v.InferOutput<typeof SessionSummarySchema>;

export const SESSION_PAGE_DEFAULT = 20;
export const SESSION_PAGE_MAX = 200;

/** A whole number from JSON or from a URL query string. */
const count = (min: number, max: number) =>
  v.pipe(
    v.union(
      [v.number(), v.pipe(v.string(), v.regex(/^\d+$/, "must be a whole number"), v.transform(Number))],
      "must be a whole number",
    ),
    // Always passes; it is the output type the OpenAPI document describes the parameter with.
    v.number(),
    v.integer("must be a whole number"),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );

export const SessionQuerySchema = v.strictObject({
  limit: v.optional(count(1, SESSION_PAGE_MAX), SESSION_PAGE_DEFAULT),
  /** Only sessions with an `id` below this (the `next_before` of the previous page). */
  before: v.optional(count(1, Number.MAX_SAFE_INTEGER)),
});
export type SessionQuery = v.InferInput<typeof SessionQuerySchema>;

export const SessionPageSchema = v.strictObject({
  sessions: v.array(SessionSummarySchema),
  /** `before` for the next (older) page; null on the last page. */
  next_before: v.nullable(int()),
});
export type SessionPage = v.InferOutput<typeof SessionPageSchema>;
