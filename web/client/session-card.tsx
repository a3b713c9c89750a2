/** @jsxImportSource preact */
// The session in progress at a glance: who authorized it, since when, how much energy so far.
import { useEffect, useState } from "preact/hooks";
import { clock, dash, energy } from "./format.ts";
import type { EvseStatus } from "./session-status.ts";

function elapsed(since: string | null, now: number): string {
  if (since === null) return dash;
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return hh > 0 ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function SessionCard({ status, sessionWh, protocol }: { status: EvseStatus; sessionWh: number | null; protocol: string | undefined }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const row = (name: string, value: string, mono = false) => (
    <div class="kv-row">
      <dt>{name}</dt>
      <dd class={mono ? "mono" : ""}>{value}</dd>
    </div>
  );
  return (
    <section class="card session" aria-label="Session">
      <h3>Session</h3>
      {status.inSession ? (
        <dl class="kv">
          {row("Started", status.sessionSince ? clock(status.sessionSince).slice(0, 8) : dash)}
          {row("Token", status.txToken ?? "not authorized")}
          {row("Duration", elapsed(status.txSince, now))}
          {row("Energy", energy(sessionWh))}
          {row("Protocol", protocol ?? dash)}
          {row("Session id", status.sessionUuid ? status.sessionUuid.slice(0, 18) + "…" : dash, true)}
        </dl>
      ) : (
        <p class="muted">{status.reserved ? "Reserved: waiting for the vehicle." : "No vehicle connected."}</p>
      )}
    </section>
  );
}
