/** @jsxImportSource preact */
// The limits of one EVSE in words (limit-words.ts) and its connector's OCPP status, as a row of
// chips: under the detail view's figures and on each overview card.
import { connectorText } from "./connection-words.ts";
import { limitLines, type StatusSummary } from "./limit-words.ts";
import { useOcppConnector } from "./use-connections.ts";

export function LimitChips({ index, summary, empty }: { index: number; summary: StatusSummary | null; empty?: string }) {
  const ocpp = connectorText(useOcppConnector(index));
  const lines = summary ? limitLines(summary) : [];
  if (lines.length === 0 && ocpp === null && !empty) return null;
  return (
    <div class="limits" data-limits>
      {lines.map((l) => (
        <span class={`chip ${l.tone}`} data-limit={l.kind}>
          {l.text}
        </span>
      ))}
      {ocpp !== null ? (
        <span class="chip idle" data-ocpp-status>
          {ocpp}
        </span>
      ) : null}
      {lines.length === 0 && ocpp === null ? <span class="muted small">{summary ? empty : "\u00a0"}</span> : null}
    </div>
  );
}
