/** @jsxImportSource preact */
// Active errors of the EVSE (GET …/errors), as raised by the kernel, the board or the meter.
import { clock } from "./format.ts";
import type { ActiveError } from "./use-evse.ts";

export function ErrorsList({ errors }: { errors: ActiveError[] }) {
  return (
    <section class="card errors" aria-label="Active errors">
      <h3>
        Active errors <span class={`pill ${errors.length > 0 ? "bad" : "ok"}`}>{errors.length}</span>
      </h3>
      {errors.length === 0 ? (
        <p class="all-clear">No active errors</p>
      ) : (
        <ul>
          {errors.map((e) => (
            <li key={`${e.type}/${e.sub_type ?? ""}`}>
              <strong>{e.type}</strong>
              {e.sub_type ? <span class="muted"> ({e.sub_type})</span> : null}
              <div class="muted small">
                {e.severity}
                {e.timestamp ? ` · since ${clock(e.timestamp)}` : ""}
                {e.message ? ` · ${e.message}` : ""}
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
