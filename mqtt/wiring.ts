// From main.ts's per-EVSE runtime to the bridge's BridgeEvse: commands go through the HTTP API's
// own path (api/run-command.ts), status and control through the §1/§2 functions.
//
// INTEGRATION NOTE (remove when done): `localStatusSummary` and `localApplyControl` below stand in
// for the status summary and local control of integration.md §1–2 until that work is merged.
// At the merge, replace the two marked lines in bridgeEvse() with
//     status: () => statusSummary(evse),
//     control: (body) => applyControl(evse, body),
// and delete both local functions.
import * as v from "valibot";
import { ApiError, validationError } from "../api/errors.ts";
import type { EvseRuntime } from "../api/context.ts";
import { runCommand } from "../api/run-command.ts";
import type { EvseConfig } from "../core/config/index.ts";
import type { HardwareCapabilities, Powermeter, SessionEvent } from "../core/types/index.ts";
import type { BridgeEvse } from "./bridge.ts";

export function bridgeEvse(evse: EvseRuntime, config: EvseConfig): BridgeEvse {
  const capabilities = () => evse.publications.values().hw_capabilities as HardwareCapabilities | null;
  return {
    index: evse.index,
    evseId: config.evse_id,
    publications: evse.publications,
    errors: () => evse.kernel.errors(),
    status: () => localStatusSummary(evse, config), // INTEGRATION: statusSummary(evse)
    control: (body) => localApplyControl(evse, config, body), // INTEGRATION: applyControl(evse, body)
    async command(name, body) {
      try {
        return { status: 200, body: await runCommand(evse.kernel, name, body) };
      } catch (err) {
        if (err instanceof ApiError) return { status: err.status, body: err.body() };
        throw err;
      }
    },
    canSwitchPhases: () => {
      const c = capabilities();
      return c !== null && c.min_phase_count_import === 1 && c.max_phase_count_import === 3;
    },
    maxCurrentA: () => Math.min(config.max_current_import_A, capabilities()?.max_current_A_import ?? config.max_current_import_A),
  };
}

// ---- TEMPORARY stand-ins (see the note at the top) ---------------------------------------------

const STATE_AFTER: Partial<Record<SessionEvent["event"], string>> = {
  Enabled: "Idle",
  Disabled: "Disabled",
  SessionStarted: "WaitingForAuthentication",
  AuthRequired: "WaitingForAuthentication",
  TransactionStarted: "PrepareCharging",
  PrepareCharging: "PrepareCharging",
  ChargingStarted: "Charging",
  ChargingResumed: "Charging",
  ChargingPausedEV: "ChargingPausedEV",
  ChargingPausedEVSE: "ChargingPausedEVSE",
  WaitingForEnergy: "WaitingForEnergy",
  StoppingCharging: "StoppingCharging",
  ChargingFinished: "Finished",
  TransactionFinished: "Finished",
  SessionFinished: "Idle",
  SwitchingPhases: "SwitchingPhases",
};

/** A reduced §1 summary from what the publication log and the simulator show. */
function localStatusSummary(evse: EvseRuntime, config: EvseConfig): object {
  const values = evse.publications.values();
  const sim = evse.board.sim?.state() ?? null;
  const meter = values.powermeter as Powermeter | null;
  const lastEvent = values.session_event as SessionEvent | null;
  const cp = sim?.cp_state ?? null;
  const limits = values.limits as { max_current?: number; nr_of_phases_available?: number } | null;
  const errors = evse.kernel.errors();
  const state = errors.some((e) => e.severity === "High") ? "Error" : lastEvent ? (STATE_AFTER[lastEvent.event] ?? "Idle") : "Idle";
  const phases = (l: { L1?: number; L2?: number; L3?: number } | undefined) => ({ L1: l?.L1 ?? 0, L2: l?.L2 ?? 0, L3: l?.L3 ?? 0 });
  return {
    state,
    cp,
    plugged: cp === "B" || cp === "C" || cp === "D",
    charging: sim ? sim.relays_closed && (meter?.power_W?.total ?? 0) > 0 : state === "Charging",
    enabled: state !== "Disabled",
    offered_current_A: sim?.pwm_duty_percent ? Math.round(sim.pwm_duty_percent * 0.6 * 10) / 10 : 0,
    max_current_A: limits?.max_current ?? config.max_current_import_A,
    phases: limits?.nr_of_phases_available === 1 ? 1 : 3,
    power_W: meter?.power_W?.total ?? 0,
    session_energy_Wh: 0,
    total_energy_Wh: meter?.energy_Wh_import.total ?? 0,
    current_A: phases(meter?.current_A),
    voltage_V: phases(meter?.voltage_V),
    session_uuid: lastEvent && STATE_AFTER[lastEvent.event] !== "Idle" ? lastEvent.uuid : null,
    id_tag: null,
    errors: errors.map((e) => e.type),
  };
}

const LocalControlSchema = v.strictObject({ enabled: v.optional(v.boolean()) });

/** Only `enabled` (through enable_disable, source LocalAPI, priority 100) until §2 is merged. */
async function localApplyControl(evse: EvseRuntime, config: EvseConfig, body: unknown): Promise<object> {
  if (typeof body === "object" && body !== null && ("max_current_A" in body || "phases" in body)) {
    throw new ApiError(501, "not_implemented", "max_current_A and phases need the local control of the status/control endpoints");
  }
  const parsed = v.safeParse(LocalControlSchema, body, { abortEarly: false });
  if (!parsed.success) throw validationError("invalid control body", parsed.issues);
  if (parsed.output.enabled !== undefined) {
    const cmd_source = { enable_source: "LocalAPI", enable_state: parsed.output.enabled ? "Enable" : "Disable", enable_priority: 100 };
    await runCommand(evse.kernel, "enable_disable", { connector_id: 0, cmd_source });
  }
  return localStatusSummary(evse, config);
}
