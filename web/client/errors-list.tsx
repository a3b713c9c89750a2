/** @jsxImportSource preact */
// Active errors of the EVSE (the `errors` messages of the event stream), as raised by the kernel,
// the board or the meter: what is wrong in words first, the error's own description, then its type.
import { errorInWords, isBlocking } from "./evse-status.ts";
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
            <li key={`${e.type}/${e.sub_type ?? ""}`} class={isBlocking(e) ? "blocking" : "minor"}>
              <strong>{errorInWords(e)}</strong>
              {e.message && e.message !== errorInWords(e) ? <div class="small">{e.message}</div> : null}
              <div class="muted small mono wrap">
                {e.type}
                {e.sub_type ? ` (${e.sub_type})` : ""}
              </div>
              <div class="muted small">
                {e.severity}
                {isBlocking(e) ? " · stops charging" : " · does not stop charging"}
                {e.timestamp ? ` · since ${clock(e.timestamp)}` : ""}
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
