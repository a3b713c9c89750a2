/** @jsxImportSource preact */
// The live log of session events, newest first, as they arrive on the event stream.
import { clock } from "./format.ts";
import { eventDetail } from "./session-status.ts";
import type { LogEntry } from "./use-evse.ts";

const TONE: Record<string, string> = {
  ChargingStarted: "active",
  ChargingResumed: "active",
  ChargingPausedEV: "warn",
  ChargingPausedEVSE: "warn",
  WaitingForEnergy: "warn",
  PluginTimeout: "warn",
  Disabled: "bad",
  TransactionStarted: "ok",
  TransactionFinished: "ok",
  Authorized: "ok",
};

export function EventLog({ log, connected }: { log: LogEntry[]; connected: boolean }) {
  return (
    <section class="card log" aria-label="Session events">
      <h3>
        Session events
        <span class={`live ${connected ? "on" : "off"}`}>{connected ? "live" : "reconnecting"}</span>
      </h3>
      {log.length === 0 ? (
        <p class="muted">No session events yet.</p>
      ) : (
        <div class="log-scroll">
          <table>
            <thead>
              <tr>
                <th>#</th>
                <th>Time</th>
                <th>Event</th>
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              {log.map(({ id, event }) => (
                <tr key={id}>
                  <td class="mono muted">{id}</td>
                  <td class="mono">{clock(event.timestamp)}</td>
                  <td>
                    <span class={`tag ${TONE[event.event] ?? ""}`}>{event.event}</span>
                  </td>
                  <td class="muted">{eventDetail(event)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
