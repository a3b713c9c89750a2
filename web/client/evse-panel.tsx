/** @jsxImportSource preact */
// One EVSE in detail: the derived status with its reason, the board and meter figures, limits,
// the live chart, the charger controls, the simulated car (simulated board only), the session and
// active errors, the session history and the session-event log.
import { useEffect, useState } from "preact/hooks";
import { CarPanel } from "./car-panel.tsx";
import { ChargerControls } from "./controls.tsx";
import { ErrorsList } from "./errors-list.tsx";
import { EventLog } from "./event-log.tsx";
import { figures } from "./figures.ts";
import { amps, CP_MEANING, dash, energy, kW } from "./format.ts";
import { LimitChips } from "./limit-chips.tsx";
import { LocalControl } from "./local-control.tsx";
import { PowerChart, usePowerSeries } from "./power-chart.tsx";
import { SessionCard } from "./session-card.tsx";
import { SessionHistory } from "./session-history.tsx";
import { useAction } from "./use-action.ts";
import { DETAIL_TYPES, useEvse } from "./use-evse.ts";
import { useStatus } from "./use-status.ts";

interface HwCapabilities {
  max_current_A_import?: number;
}

function Tile({ name, label, value, sub, tone }: { name: string; label: string; value: string; sub?: string; tone?: string }) {
  return (
    <div class={`tile ${tone ?? ""}`} data-tile={name}>
      <div class="tile-label">{label}</div>
      <div class="tile-value">{value}</div>
      <div class="tile-sub">{sub ?? "\u00a0"}</div>
    </div>
  );
}

export const shortDate = (iso: string) => new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short", hour12: false });

/** Id of the newest session event that ends a transaction or session: the history reloads on it. */
function historyKey(log: { id: number; event: { event: string } }[]): number {
  return log.find((l) => l.event.event === "TransactionFinished" || l.event.event === "SessionFinished" || l.event.event === "TransactionStarted")?.id ?? 0;
}

export function EvsePanel({ index, evseId, onBack }: { index: number; evseId: string | null; onBack?: () => void }) {
  const live = useEvse(index, DETAIL_TYPES);
  const { busy, outcome, act } = useAction();
  const { summary, set: setSummary } = useStatus(index, live.log[0]?.id);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(t);
  }, []);
  const { sim, vars, status } = live;
  const f = figures(live, now);
  const hw = vars.hw_capabilities as HwCapabilities | undefined;
  const samples = usePowerSeries(vars.powermeter, f.offeredA);
  const duty = sim?.pwm_duty_percent;
  const onBoard = (v: string | undefined) => (sim === null ? "real board" : v);

  return (
    <article class="evse" data-evse={index} aria-label={`EVSE ${index}`}>
      {onBack ? (
        <a class="back" href="#" onClick={(e) => (e.preventDefault(), onBack())}>
          ← All EVSEs
        </a>
      ) : null}
      <header class="evse-head">
        <div class="evse-title">
          <h2>EVSE {index}</h2>
          <div class="mono muted wrap">{evseId ?? (vars.evse_id as string | undefined) ?? dash}</div>
        </div>
        <div class="evse-head-right">
          {status.txToken ? <span class="muted small">token {status.txToken}</span> : null}
          <div class="status-box">
            <span class={`status ${f.status.tone}`} data-status>
              {live.loaded ? f.status.status : "Loading…"}
            </span>
            <div class={`reason ${f.status.tone}`} data-reason>
              {live.loaded ? f.status.reason : "\u00a0"}
            </div>
          </div>
        </div>
      </header>

      <div class="tiles">
        <Tile
          name="cp"
          label="Control pilot"
          value={sim ? `State ${sim.cp_state}` : dash}
          sub={sim ? CP_MEANING[sim.cp_state] : onBoard(undefined)}
          tone={sim?.cp_state === "C" || sim?.cp_state === "D" ? "active" : sim?.cp_state === "E" ? "bad" : undefined}
        />
        <Tile
          name="pwm"
          label="PWM duty"
          value={sim ? (typeof duty === "number" ? `${duty.toFixed(1)} %` : "Off") : dash}
          sub={sim ? (f.offeredA !== null ? `${amps(f.offeredA)} offered` : typeof duty === "number" ? "no charging current" : "steady level") : onBoard(undefined)}
        />
        <Tile
          name="relays"
          label="Relays"
          value={sim ? (sim.relays_closed ? "Closed" : "Open") : dash}
          sub={sim ? `${sim.phases} phase${sim.phases > 1 ? "s" : ""} switched` : onBoard(undefined)}
          tone={sim?.relays_closed ? "active" : undefined}
        />
        <Tile name="lock" label="Connector lock" value={sim ? (sim.locked ? "Locked" : "Unlocked") : dash} sub={sim ? `RCD ${sim.rcd_current_mA.toFixed(1)} mA` : onBoard(undefined)} />
        <Tile
          name="power"
          label="Power"
          value={kW(f.powerW)}
          sub={f.currents ? `${[f.currents.L1, f.currents.L2, f.currents.L3].map((a) => (a ?? 0).toFixed(1)).join(" · ")} A` : undefined}
          tone={f.powerW !== null && f.powerW > 0 ? "active" : undefined}
        />
        <Tile name="energy" label="Session energy" value={energy(f.sessionWh)} sub={`meter ${energy(f.totalWh)}`} />
        <Tile name="limit" label="Current limit" value={amps(f.limitA)} sub={`${f.phases ?? dash} ph · hw ${amps(hw?.max_current_A_import, 0)}`} />
        <Tile
          name="enforced"
          label="Energy manager"
          value={f.enforced ? (f.enforced.amps !== null ? amps(f.enforced.amps) : f.enforced.watts !== null ? kW(f.enforced.watts) : "0 A") : "No limit"}
          sub={f.enforced ? `until ${shortDate(f.enforced.until)}` : "nothing enforced"}
        />
      </div>

      <LimitChips index={index} summary={summary} empty="No local limit, no site limit" />

      <div class={`outcome ${outcome ? (outcome.ok ? "ok" : "bad") : ""}`} role="status" aria-live="polite">
        {busy ? `${busy} …` : outcome ? outcome.text : "Ready for commands."}
      </div>

      <PowerChart samples={samples} />

      <div class="columns">
        <ChargerControls index={index} act={act} busy={busy} />
        {sim ? <CarPanel index={index} sim={sim} act={act} busy={busy} /> : null}
        <div class="stack">
          <LocalControl index={index} summary={summary} onSummary={setSummary} act={act} busy={busy} />
          <SessionCard status={status} sessionWh={f.sessionWh} protocol={vars.selected_protocol as string | undefined} />
          <ErrorsList errors={live.errors} />
        </div>
      </div>

      <SessionHistory index={index} refreshKey={historyKey(live.log)} />
      <EventLog log={live.log} connected={live.connected} />
    </article>
  );
}
