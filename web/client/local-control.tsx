/** @jsxImportSource preact */
// Local control (PUT …/{i}/control): the standing current limit a local energy manager would set,
// and the switch. What the page shows is what the server answered, so a refused value never
// looks applied.
import { useState } from "preact/hooks";
import { api, ApiRequestError, evsePath } from "./api.ts";
import { ampsText, limitLines, type StatusSummary } from "./limit-words.ts";
import type { Act } from "./use-action.ts";

export function LocalControl({ index, summary, onSummary, act, busy }: { index: number; summary: StatusSummary | null; onSummary(s: StatusSummary): void; act: Act; busy: string | null }) {
  const [limit, setLimit] = useState("10");
  const put = async (body: Record<string, unknown>) => {
    const s = await api<StatusSummary>(evsePath(index, "control"), { method: "PUT", body });
    onSummary(s);
    return s;
  };
  const setTo = (raw: string) => {
    const a = Number(raw.trim().replace(",", "."));
    const words = { verb: "Set limit", done: a === 0 ? "Local limit 0 A: charging paused, the session kept" : `Limited to ${ampsText(a)} by local control` };
    return act(words, async () => {
      // Number("") is 0 and NaN would travel as null (no limit): neither is what was typed.
      if (raw.trim() === "" || !Number.isFinite(a)) throw new ApiRequestError(400, "invalid_input", `"${raw}" is not a number of amperes (0 pauses, 6 or more limits)`);
      return put({ max_current_A: a });
    });
  };
  const line = summary ? limitLines(summary).find((l) => l.kind !== "site") : undefined;

  return (
    <section class="card local-control" aria-label="Local control">
      <h3>
        Local control
        {summary ? (
          <span class={`pill ${summary.enabled ? "ok" : "bad"}`} data-enabled>
            {summary.enabled ? "enabled" : "disabled"}
          </span>
        ) : null}
      </h3>
      <p class={`small ${line ? "" : "muted"}`} data-local-limit>
        {summary === null ? "\u00a0" : line ? line.text : "No local limit"}
      </p>
      <form
        class="field-row"
        onSubmit={(e) => {
          e.preventDefault();
          void setTo(limit);
        }}
      >
        <label>
          <span>Limit</span>
          <input name="local-limit" class="num" inputMode="decimal" value={limit} onInput={(e) => setLimit(e.currentTarget.value)} />
        </label>
        <span class="unit">A</span>
        <button type="submit" class="btn primary" disabled={busy !== null}>
          Set limit
        </button>
        <button
          type="button"
          class="btn"
          disabled={busy !== null}
          onClick={() => act({ verb: "Clear limit", done: "Local limit removed" }, () => put({ max_current_A: null }))}
        >
          Clear limit
        </button>
      </form>
      <div class="btn-row">
        <button
          type="button"
          class="btn"
          disabled={busy !== null}
          onClick={() => act({ verb: "Enable", done: "Enabled by local control", refused: "a source with higher priority keeps it disabled" }, async () => (await put({ enabled: true })).enabled)}
        >
          Enable
        </button>
        <button
          type="button"
          class="btn"
          disabled={busy !== null}
          onClick={() =>
            act({ verb: "Disable", done: "Disabled by local control", refused: "a source with higher priority keeps it enabled", success: false }, async () => (await put({ enabled: false })).enabled)
          }
        >
          Disable
        </button>
      </div>
      <p class="muted small">As a local energy manager would (PUT …/control): 0 A pauses and keeps the session.</p>
    </section>
  );
}
