/** @jsxImportSource preact */
// The charger-side buttons: every one is a command of the interface, sent as the local operator
// would (enable_source LocalAPI) and answered on the panel's result line.
import { useState } from "preact/hooks";
import { api, evsePath } from "./api.ts";
import type { Act, ActionWords } from "./use-action.ts";

const TOKEN_TYPES = ["ISO14443", "ISO15693", "Central", "eMAID", "KeyCode", "Local", "MacAddress", "NoAuthorization"];
/** Middle of the 0 (highest) … 10000 range: above the boot default, below a technician or CSMS. */
const LOCAL_PRIORITY = 5000;

export function ChargerControls({ index, act, busy }: { index: number; act: Act; busy: string | null }) {
  const [tokenValue, setTokenValue] = useState("RFID0001");
  const [tokenType, setTokenType] = useState("ISO14443");
  const [reservationId, setReservationId] = useState("1");
  const command = (name: string, body: unknown = {}) => () => api(evsePath(index, `commands/${name}`), { body });
  const button = (label: string, words: ActionWords, name: string, body?: unknown, kind = "") => (
    <button type="button" class={`btn ${kind}`} disabled={busy !== null} onClick={() => act(words, command(name, body))}>
      {label}
    </button>
  );
  const enable = (state: "Enable" | "Disable") => ({
    connector_id: 0,
    cmd_source: { enable_source: "LocalAPI", enable_state: state, enable_priority: LOCAL_PRIORITY },
  });

  return (
    <section class="card controls" aria-label="Charger controls">
      <h3>Charger</h3>
      <div class="btn-row">
        {button("Enable", { verb: "Enable", done: "Enabled (local operator, priority 5000)", refused: "a source with higher priority keeps it disabled" }, "enable_disable", enable("Enable"))}
        {button("Disable", { verb: "Disable", done: "Disabled (local operator, priority 5000)", refused: "a source with higher priority keeps it enabled", success: false }, "enable_disable", enable("Disable"))}
      </div>
      <div class="btn-row">
        {button("Pause", { verb: "Pause", done: "Charging paused by the charger", refused: "not charging" }, "pause_charging")}
        {button("Resume", { verb: "Resume", done: "Charging resumed", refused: "not paused by the charger" }, "resume_charging")}
        {button("Stop", { verb: "Stop", done: "Transaction stopped", refused: "no transaction" }, "stop_transaction", { request: { reason: "Local" } }, "danger")}
      </div>
      <form
        class="field-row"
        onSubmit={(e) => {
          e.preventDefault();
          void act(
            { verb: "Authorize", done: `Authorized ${tokenValue} (${tokenType})` },
            command("authorize_response", {
              provided_token: { id_token: { value: tokenValue, type: tokenType }, authorization_type: "RFID" },
              validation_result: { authorization_status: "Accepted" },
            }),
          );
        }}
      >
        <label class="grow">
          <span>Token</span>
          <input name="id-token" value={tokenValue} maxLength={36} onInput={(e) => setTokenValue(e.currentTarget.value)} />
        </label>
        <label>
          <span>Type</span>
          <select value={tokenType} onChange={(e) => setTokenType(e.currentTarget.value)}>
            {TOKEN_TYPES.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        </label>
        <button type="submit" class="btn primary" disabled={busy !== null}>
          Authorize
        </button>
      </form>
      <div class="field-row">
        <label class="grow">
          <span>Reservation id</span>
          <input name="reservation-id" inputMode="numeric" value={reservationId} onInput={(e) => setReservationId(e.currentTarget.value)} />
        </label>
        <button
          type="button"
          class="btn"
          disabled={busy !== null}
          onClick={() =>
            act(
              { verb: `Reserve ${reservationId}`, done: `Reserved for id ${reservationId}`, refused: "the EVSE is not idle, or is reserved for another id" },
              command("reserve", { reservation_id: Number(reservationId) }),
            )
          }
        >
          Reserve
        </button>
        {button("Cancel", { verb: "Cancel reservation", done: "Reservation cancelled (if there was one)" }, "cancel_reservation")}
      </div>
      <div class="btn-row">
        {button("Withdraw authorization", { verb: "Withdraw authorization", done: "Authorization withdrawn (if there was one)" }, "withdraw_authorization")}
        {button("Force unlock", { verb: "Force unlock", done: "Connector unlocked", refused: "the connector cannot be unlocked now" }, "force_unlock", { connector_id: 1 }, "warn")}
      </div>
    </section>
  );
}
