// GET …/{i}/status (integration.md §1): one flat object an energy manager can poll cheaply. The
// same object (plus `evse`) is what MQTT publishes as …/status. Built from the kernel's snapshot;
// the schema documents it in /openapi.json.
import * as v from "valibot";
import type { EvseKernel } from "../core/kernel-api.ts";

const PhaseValuesSchema = v.strictObject({ L1: v.number(), L2: v.number(), L3: v.number() });

export const StatusSummarySchema = v.strictObject({
  state: v.pipe(v.string(), v.description("EvseState (Idle, WaitingForAuthentication, PrepareCharging, Charging, ChargingPausedEV, ChargingPausedEVSE, WaitingForEnergy, StoppingCharging, Finished, Disabled, SwitchPhases, …)")),
  cp: v.pipe(v.nullable(v.picklist(["A", "B", "C", "D", "E", "F"])), v.description("CP state the board reports now; null before its first report")),
  plugged: v.pipe(v.boolean(), v.description("CP is B, C or D")),
  charging: v.pipe(v.boolean(), v.description("relays closed and the car draws current")),
  enabled: v.pipe(v.boolean(), v.description("effective enable state")),
  offered_current_A: v.pipe(v.number(), v.description("what the PWM offers now (0 when no PWM)")),
  max_current_A: v.pipe(v.number(), v.description("effective current limit after every source (hardware, config, cable, enforce_limits, local control, site share)")),
  phases: v.picklist([1, 3]),
  power_W: v.number(),
  session_energy_Wh: v.pipe(v.number(), v.description("energy of the running transaction, or of the last one until the next session starts")),
  total_energy_Wh: v.number(),
  current_A: PhaseValuesSchema,
  voltage_V: PhaseValuesSchema,
  session_uuid: v.nullable(v.string()),
  id_tag: v.nullable(v.string()),
  errors: v.pipe(v.array(v.string()), v.description("type of each active error")),
  local_limit_A: v.pipe(v.nullable(v.number()), v.description("the standing limit of PUT …/control (null: none)")),
  failsafe: v.pipe(v.boolean(), v.description("true while the local limit has fallen back to control.failsafe_current_A")),
  site_share_A: v.pipe(v.nullable(v.number()), v.description("this EVSE's share of site.max_current_A (null without a site limit)")),
  failsafe_current_A: v.pipe(v.nullable(v.number()), v.description("while failsafe is true: control.failsafe_current_A, the limit in force instead of local_limit_A; null otherwise")),
  site_max_current_A: v.pipe(v.nullable(v.number()), v.description("site.max_current_A, the current the EVSEs of this process share (null without a site limit)")),
});
export type StatusSummary = v.InferOutput<typeof StatusSummarySchema>;

const phaseValues = (p: { L1?: number; L2?: number; L3?: number } | undefined) => ({ L1: p?.L1 ?? 0, L2: p?.L2 ?? 0, L3: p?.L3 ?? 0 });

/** Rounded for reading; the kernel keeps the exact values. */
const r2 = (x: number) => Math.round(x * 100) / 100;

/** What the summary shows from the configuration beside the kernel's figures (main.ts sets it). */
export interface StatusConfig {
  /** site.max_current_A; absent: no site limit. */
  siteMaxCurrentA?: number;
  /** control.failsafe_current_A. */
  failsafeCurrentA?: number;
}

export function statusSummary(evse: { kernel: Pick<EvseKernel, "status" | "errors"> } & StatusConfig): StatusSummary {
  const s = evse.kernel.status();
  const cp = s.cp;
  return {
    state: s.state,
    cp,
    plugged: cp === "B" || cp === "C" || cp === "D",
    // C or D with the relays closed is a car drawing current (IEC 61851-1); Charging excludes the
    // moments the kernel is opening them.
    charging: s.relays_closed && (cp === "C" || cp === "D") && s.state === "Charging",
    enabled: s.enabled,
    offered_current_A: r2(s.offered_current_A),
    max_current_A: r2(s.max_current_A),
    phases: s.phases === 1 ? 1 : 3,
    power_W: s.meter?.power_W?.total ?? 0,
    session_energy_Wh: r2(s.session_energy_Wh),
    total_energy_Wh: s.meter?.energy_Wh_import.total ?? 0,
    current_A: phaseValues(s.meter?.current_A),
    voltage_V: phaseValues(s.meter?.voltage_V),
    session_uuid: s.session_uuid,
    id_tag: s.id_tag,
    errors: evse.kernel.errors().map((e) => e.type),
    local_limit_A: s.local_limit_A,
    failsafe: s.failsafe,
    site_share_A: s.site_share_A,
    failsafe_current_A: s.failsafe ? (evse.failsafeCurrentA ?? null) : null,
    site_max_current_A: evse.siteMaxCurrentA ?? null,
  };
}
