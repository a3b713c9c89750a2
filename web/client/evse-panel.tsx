/** @jsxImportSource preact */
// One EVSE: status, the board and meter figures, limits, the charger controls, the simulated car
// (simulated board only), active errors and the session-event log.
import { CarPanel } from "./car-panel.tsx";
import { ChargerControls } from "./controls.tsx";
import { ErrorsList } from "./errors-list.tsx";
import { EventLog } from "./event-log.tsx";
import { amps, CP_MEANING, dash, dutyToAmps, energy, kW } from "./format.ts";
import { SessionCard } from "./session-card.tsx";
import { statusLabel } from "./session-status.ts";
import { useAction } from "./use-action.ts";
import { useEvse } from "./use-evse.ts";

interface Powermeter {
  energy_Wh_import?: { total?: number };
  power_W?: { total?: number };
  current_A?: { L1?: number; L2?: number; L3?: number };
}
interface Limits {
  max_current?: number;
  nr_of_phases_available?: number;
}
interface HwCapabilities {
  max_current_A_import?: number;
}
interface EnforcedLimits {
  valid_until?: string;
  limits_root_side?: { ac_max_current_A?: number; total_power_W?: number };
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

export function EvsePanel({ index, evseId }: { index: number; evseId: string | null }) {
  const live = useEvse(index);
  const { busy, outcome, act } = useAction();
  const { sim, vars, status } = live;
  const meter = vars.powermeter as Powermeter | undefined;
  const limits = vars.limits as Limits | undefined;
  const hw = vars.hw_capabilities as HwCapabilities | undefined;
  const enforced = vars.enforced_limits as EnforcedLimits | undefined;
  const { label, tone } = statusLabel(status);

  const totalWh = meter?.energy_Wh_import?.total ?? sim?.meter.energy_Wh_import;
  const powerW = meter?.power_W?.total ?? sim?.meter.power_W;
  const current = meter?.current_A ?? sim?.meter.current_A;
  const sessionWh = status.txStartWh !== null && typeof totalWh === "number" ? totalWh - status.txStartWh : null;
  const duty = sim?.pwm_duty_percent;
  const offered = typeof duty === "number" ? dutyToAmps(duty) : null;
  const enforcedA = enforced?.limits_root_side?.ac_max_current_A;
  const enforcedActive = enforced?.valid_until !== undefined && Date.parse(enforced.valid_until) > Date.now();
  const onBoard = (v: string | undefined) => (sim === null ? "real board" : v);

  return (
    <article class="evse" data-evse={index} aria-label={`EVSE ${index}`}>
      <header class="evse-head">
        <div>
          <h2>EVSE {index}</h2>
          <div class="mono muted">{evseId ?? (vars.evse_id as string | undefined) ?? dash}</div>
        </div>
        <div class="evse-head-right">
          {status.txToken ? <span class="muted small">token {status.txToken}</span> : null}
          {vars.ready === false ? <span class="pill wait">starting</span> : null}
          {live.errors.length > 0 ? <span class="pill bad">{live.errors.length} error{live.errors.length > 1 ? "s" : ""}</span> : null}
          <span class={`status ${tone}`} data-status>
            {label}
          </span>
        </div>
      </header>

      <div class="tiles">
        <Tile
          name="cp"
          label="Control pilot"
          value={sim ? `State ${sim.cp_state}` : dash}
          sub={sim ? CP_MEANING[sim.cp_state] : onBoard(undefined)}
          tone={sim?.cp_state === "C" || sim?.cp_state === "D" ? "active" : undefined}
        />
        <Tile
          name="pwm"
          label="PWM duty"
          value={sim ? (typeof duty === "number" ? `${duty.toFixed(1)} %` : "Off") : dash}
          sub={sim ? (offered !== null ? `${amps(offered)} offered` : typeof duty === "number" ? "no charging current" : "steady level") : onBoard(undefined)}
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
          value={kW(powerW)}
          sub={current ? ["L1", "L2", "L3"].map((p) => `${((current as Record<string, number | undefined>)[p] ?? 0).toFixed(1)}`).join(" · ") + " A" : undefined}
          tone={typeof powerW === "number" && powerW > 0 ? "active" : undefined}
        />
        <Tile name="energy" label="Session energy" value={energy(sessionWh)} sub={`meter ${energy(totalWh)}`} />
        <Tile
          name="limit"
          label="Current limit"
          value={amps(limits?.max_current)}
          sub={`${limits?.nr_of_phases_available ?? dash} ph · hardware ${amps(hw?.max_current_A_import, 0)}`}
        />
        <Tile
          name="enforced"
          label="Energy manager"
          value={enforcedActive && typeof enforcedA === "number" ? amps(enforcedA) : "No limit"}
          sub={enforcedActive ? `until ${new Date(enforced!.valid_until!).toLocaleString()}` : "nothing enforced"}
        />
      </div>

      <div class={`outcome ${outcome ? (outcome.ok ? "ok" : "bad") : ""}`} role="status" aria-live="polite">
        {busy ? `${busy} …` : outcome ? `${outcome.label}: ${outcome.text}` : "Ready for commands."}
      </div>

      <div class="columns">
        <ChargerControls index={index} act={act} busy={busy} />
        {sim ? <CarPanel index={index} sim={sim} act={act} busy={busy} /> : null}
        <div class="stack">
          <SessionCard status={status} sessionWh={sessionWh} protocol={vars.selected_protocol as string | undefined} />
          <ErrorsList errors={live.errors} />
        </div>
      </div>

      <EventLog log={live.log} connected={live.connected} />
    </article>
  );
}
