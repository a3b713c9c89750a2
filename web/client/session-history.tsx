/** @jsxImportSource preact */
// The EVSE's finished and running sessions (GET …/sessions, newest first): when, how long, how much,
// who, why it stopped, and whether the meter's signed OCMF records verify against the key the
// meter publishes (the server checks them with @road-labs/ocmf: `ocmf_verified`).
import { useEffect, useState } from "preact/hooks";
import { api, evsePath } from "./api.ts";
import { dash, energy } from "./format.ts";

interface Token {
  id_token?: { value?: string; type?: string };
}
export interface SessionRow {
  id: number;
  uuid: string;
  state: "active" | "finished" | "interrupted";
  started_at: string | null;
  finished_at: string | null;
  duration_s: number | null;
  energy_Wh: number | null;
  id_tag: Token | null;
  stop_reason: string | null;
  start_signed_meter_value: unknown;
  signed_meter_value: unknown;
  ocmf_verified?: { start: boolean | null; stop: boolean | null };
}

const PAGE = 10;

export function duration(s: number | null): string {
  if (s === null) return dash;
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return h > 0 ? `${h} h ${String(m).padStart(2, "0")} min` : m > 0 ? `${m} min ${String(sec).padStart(2, "0")} s` : `${sec} s`;
}

function when(iso: string | null): string {
  if (!iso) return dash;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString([], { dateStyle: "short", timeStyle: "medium", hour12: false });
}

/** "verified" only when both records are there and both verify; otherwise what is missing or wrong. */
export function ocmfVerdict(s: Pick<SessionRow, "ocmf_verified" | "start_signed_meter_value" | "signed_meter_value" | "state">): { text: string; tone: string } {
  const v = s.ocmf_verified;
  if (!v || (v.start === null && v.stop === null)) return { text: s.start_signed_meter_value || s.signed_meter_value ? "no key published" : "no records", tone: "" };
  if (v.start === false || v.stop === false) return { text: `not verified (${[v.start === false ? "start" : "", v.stop === false ? "stop" : ""].filter(Boolean).join(", ")})`, tone: "bad" };
  if (v.start === true && v.stop === true) return { text: "verified", tone: "ok" };
  if (v.start === true && s.state === "active") return { text: "start verified", tone: "ok" };
  return { text: v.start === true ? "start verified, no stop record" : "stop verified, no start record", tone: "warn" };
}

export function SessionHistory({ index, refreshKey }: { index: number; refreshKey: number }) {
  const [rows, setRows] = useState<SessionRow[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    let stopped = false;
    api<{ sessions: SessionRow[] }>(evsePath(index, `sessions?limit=${PAGE}`))
      .then((page) => {
        if (stopped) return;
        setRows(page.sessions);
        setProblem(null);
      })
      .catch((err: Error) => !stopped && setProblem(err.message));
    return () => {
      stopped = true;
    };
  }, [index, refreshKey]);

  return (
    <section class="card history" aria-label="Session history">
      <h3>
        Session history <span class="muted small plain">last {PAGE}</span>
      </h3>
      {problem ? (
        <p class="bad-text">Could not load the history: {problem}</p>
      ) : rows === null ? (
        <p class="muted">Loading…</p>
      ) : rows.length === 0 ? (
        <p class="muted">No sessions yet.</p>
      ) : (
        <table class="stack-table">
          <thead>
            <tr>
              <th>Start</th>
              <th>End</th>
              <th>Duration</th>
              <th>Energy</th>
              <th>Token</th>
              <th>Stop reason</th>
              <th>OCMF</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => {
              const ocmf = ocmfVerdict(s);
              return (
                <tr key={s.id} data-session={s.uuid}>
                  <td data-label="Start">{when(s.started_at)}</td>
                  <td data-label="End">{s.state === "active" ? "running" : s.state === "interrupted" ? "interrupted" : when(s.finished_at)}</td>
                  <td data-label="Duration">{duration(s.duration_s)}</td>
                  <td data-label="Energy">{energy(s.energy_Wh)}</td>
                  <td data-label="Token" class="mono">
                    {s.id_tag?.id_token?.value ?? dash}
                  </td>
                  <td data-label="Stop reason">{s.stop_reason ?? dash}</td>
                  <td data-label="OCMF" data-ocmf>
                    <span class={`tag ${ocmf.tone}`}>{ocmf.text}</span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
