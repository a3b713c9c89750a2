// The session history, built from the SessionEvents the kernel publishes (behavior.md §9.1):
// one row per session, filled in as SessionStarted, TransactionStarted, TransactionFinished and
// SessionFinished arrive. Every write is upsert-shaped, so a row is right whatever arrives first
// and whichever of the events a crash swallowed.
import type { Database } from "bun:sqlite";
import { parseOrThrow, type Powermeter, type SessionEvent } from "../core/types/index.ts";
import { SessionQuerySchema, type SessionPage, type SessionQuery, type SessionSummary } from "./session-summary.ts";

export interface SessionHistory {
  /** Commits the event's effect on the history before returning (call it before publishing). */
  recordEvent(event: SessionEvent): void;
  /** Newest first. Throws SchemaValidationError naming `limit` or `before` on bad paging input. */
  listSessions(query?: SessionQuery): SessionPage;
  getSession(uuid: string): SessionSummary | null;
}

interface SessionRow {
  id: number;
  evse: number;
  uuid: string;
  state: SessionSummary["state"];
  started_at: string | null;
  started_by: string | null;
  session_id_tag: string | null;
  reservation_id: number | null;
  transaction_started_at: string | null;
  transaction_id_tag: string | null;
  start_meter_value: string | null;
  latest_meter_value: string | null;
  start_signed_meter_value: string | null;
  signed_meter_value: string | null;
  stop_reason: string | null;
  stop_id_tag: string | null;
  transaction_finished_at: string | null;
  finished_at: string | null;
}

type Params = Record<string, string | number | null>;

const json = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));
const parsed = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

const UPSERT = (columns: string[], onConflict: string) =>
  `INSERT INTO sessions (evse, uuid, ${columns.join(", ")}) VALUES ($evse, $uuid, ${columns.map((c) => `$${c}`).join(", ")})
   ON CONFLICT (evse, uuid) DO UPDATE SET ${onConflict}`;

export function prepareHistory(db: Database) {
  const sessionStarted = db.query<never, Params>(
    UPSERT(
      ["started_at", "started_by", "session_id_tag", "reservation_id"],
      `started_at = excluded.started_at, started_by = excluded.started_by,
       session_id_tag = excluded.session_id_tag, reservation_id = COALESCE(excluded.reservation_id, reservation_id)`,
    ),
  );
  // A session still open when a new one starts on the same EVSE ended without its events.
  const interruptOthers = db.query<never, Params>(
    "UPDATE sessions SET state = 'interrupted' WHERE evse = $evse AND uuid <> $uuid AND state = 'active'",
  );
  const transactionStarted = db.query<never, Params>(
    UPSERT(
      ["transaction_started_at", "transaction_id_tag", "start_meter_value", "latest_meter_value", "reservation_id", "start_signed_meter_value"],
      `transaction_started_at = excluded.transaction_started_at, transaction_id_tag = excluded.transaction_id_tag,
       start_meter_value = excluded.start_meter_value,
       latest_meter_value = COALESCE(latest_meter_value, excluded.latest_meter_value),
       reservation_id = COALESCE(excluded.reservation_id, reservation_id),
       start_signed_meter_value = COALESCE(excluded.start_signed_meter_value, start_signed_meter_value)`,
    ),
  );
  // Only a new row takes `state`: a TransactionFinished for a session never seen belongs to a
  // previous process (D7 boot), so that session was interrupted.
  const transactionFinished = db.query<never, Params>(
    UPSERT(
      ["state", "transaction_finished_at", "latest_meter_value", "stop_reason", "stop_id_tag", "start_signed_meter_value", "signed_meter_value"],
      `transaction_finished_at = excluded.transaction_finished_at, latest_meter_value = excluded.latest_meter_value,
       stop_reason = excluded.stop_reason, stop_id_tag = excluded.stop_id_tag,
       start_signed_meter_value = COALESCE(excluded.start_signed_meter_value, start_signed_meter_value),
       signed_meter_value = excluded.signed_meter_value`,
    ),
  );
  const sessionFinished = db.query<never, Params>(
    `INSERT INTO sessions (evse, uuid, state, finished_at) VALUES ($evse, $uuid, 'finished', $finished_at)
     ON CONFLICT (evse, uuid) DO UPDATE SET state = 'finished', finished_at = excluded.finished_at`,
  );
  // From the open-transaction record (§16.1): keeps the running reading of the session at most 10 s
  // old, and creates the row if the history missed TransactionStarted.
  const fromRecord = db.query<never, Params>(
    UPSERT(
      ["transaction_started_at", "transaction_id_tag", "start_meter_value", "latest_meter_value", "reservation_id"],
      `transaction_started_at = COALESCE(transaction_started_at, excluded.transaction_started_at),
       transaction_id_tag = COALESCE(transaction_id_tag, excluded.transaction_id_tag),
       start_meter_value = COALESCE(start_meter_value, excluded.start_meter_value),
       reservation_id = COALESCE(reservation_id, excluded.reservation_id),
       latest_meter_value = CASE WHEN transaction_finished_at IS NULL THEN excluded.latest_meter_value ELSE latest_meter_value END`,
    ),
  );
  const page = db.query<SessionRow, Params>(
    "SELECT * FROM sessions WHERE evse = $evse AND id < $before ORDER BY id DESC LIMIT $limit",
  );
  const one = db.query<SessionRow, Params>("SELECT * FROM sessions WHERE evse = $evse AND uuid = $uuid");

  const record = db.transaction((evse: number, event: SessionEvent) => {
    const key = { evse, uuid: event.uuid };
    if (event.session_started) {
      const s = event.session_started;
      interruptOthers.run(key);
      sessionStarted.run({
        ...key,
        started_at: event.timestamp,
        started_by: s.reason,
        session_id_tag: json(s.id_tag),
        reservation_id: s.reservation_id ?? null,
      });
    }
    if (event.transaction_started) {
      const t = event.transaction_started;
      transactionStarted.run({
        ...key,
        transaction_started_at: event.timestamp,
        transaction_id_tag: json(t.id_tag),
        start_meter_value: json(t.meter_value),
        latest_meter_value: json(t.meter_value),
        reservation_id: t.reservation_id ?? null,
        start_signed_meter_value: json(t.signed_meter_value),
      });
    }
    if (event.transaction_finished) {
      const t = event.transaction_finished;
      transactionFinished.run({
        ...key,
        state: "interrupted",
        transaction_finished_at: event.timestamp,
        latest_meter_value: json(t.meter_value),
        stop_reason: t.reason ?? null,
        stop_id_tag: json(t.id_tag),
        start_signed_meter_value: json(t.start_signed_meter_value),
        signed_meter_value: json(t.signed_meter_value),
      });
    }
    if (event.event === "SessionFinished") sessionFinished.run({ ...key, finished_at: event.timestamp });
  });

  return {
    forEvse(evse: number): SessionHistory {
      return {
        recordEvent(event) {
          // uuid "" marks events outside any session (Enabled, Disabled, reservations).
          if (event.uuid !== "") record(evse, event);
        },
        listSessions(query = {}) {
          const q = parseOrThrow(SessionQuerySchema, query, "session query");
          const rows = page.all({ evse, before: q.before ?? Number.MAX_SAFE_INTEGER, limit: q.limit + 1 });
          const more = rows.length > q.limit;
          const sessions = rows.slice(0, q.limit).map(toSummary);
          return { sessions, next_before: more ? sessions[sessions.length - 1]!.id : null };
        },
        getSession(uuid) {
          const row = one.get({ evse, uuid });
          return row ? toSummary(row) : null;
        },
      };
    },
    /** The history side of TransactionStore.save. */
    fromRecord(evse: number, r: { uuid: string; id_tag: unknown; start_meter_value: unknown; latest_meter_value: unknown; reservation_id?: number; started_at: string }) {
      fromRecord.run({
        evse,
        uuid: r.uuid,
        transaction_started_at: r.started_at,
        transaction_id_tag: json(r.id_tag),
        start_meter_value: json(r.start_meter_value),
        latest_meter_value: json(r.latest_meter_value),
        reservation_id: r.reservation_id ?? null,
      });
    },
  };
}

const seconds = (from: string | null, to: string | null): number | null =>
  from === null || to === null ? null : (Date.parse(to) - Date.parse(from)) / 1000;

function energyWh(start: Powermeter | null, stop: Powermeter | null): number | null {
  const a = start?.energy_Wh_import?.total;
  const b = stop?.energy_Wh_import?.total;
  if (typeof a !== "number" || typeof b !== "number") return null;
  return Math.round((b - a) * 1000) / 1000; // meter totals are floats; no 1499.9999998 in a bill
}

function toSummary(row: SessionRow): SessionSummary {
  const start = parsed<Powermeter>(row.start_meter_value);
  const stop = parsed<Powermeter>(row.latest_meter_value);
  return {
    id: row.id,
    evse: row.evse,
    uuid: row.uuid,
    state: row.state,
    started_at: row.started_at,
    started_by: row.started_by as SessionSummary["started_by"],
    id_tag: parsed(row.transaction_id_tag ?? row.session_id_tag),
    reservation_id: row.reservation_id,
    transaction_started_at: row.transaction_started_at,
    transaction_finished_at: row.transaction_finished_at,
    start_meter_value: start,
    stop_meter_value: stop,
    energy_Wh: energyWh(start, stop),
    duration_s: seconds(row.started_at, row.finished_at),
    transaction_duration_s: seconds(row.transaction_started_at, row.transaction_finished_at),
    stop_reason: row.stop_reason as SessionSummary["stop_reason"],
    stop_id_tag: parsed(row.stop_id_tag),
    start_signed_meter_value: parsed(row.start_signed_meter_value),
    signed_meter_value: parsed(row.signed_meter_value),
    finished_at: row.finished_at,
  };
}
