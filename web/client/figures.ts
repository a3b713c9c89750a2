// The figures both EVSE views show (overview card and detail), computed once from the live data:
// the derived status, power, currents, session energy, the limit in force and the offered current.
import { deriveStatus, type DerivedStatus } from "./evse-status.ts";
import { dutyToAmps } from "./format.ts";
import type { EvseLive } from "./use-evse.ts";

interface Powermeter {
  energy_Wh_import?: { total?: number };
  power_W?: { total?: number };
  current_A?: { L1?: number; L2?: number; L3?: number };
}
interface Limits {
  max_current?: number;
  nr_of_phases_available?: number;
}
interface EnforcedLimits {
  valid_until?: string;
  limits_root_side?: { ac_max_current_A?: number; total_power_W?: number };
}

export interface Figures {
  status: DerivedStatus;
  powerW: number | null;
  currents: { L1: number | null; L2: number | null; L3: number | null } | null;
  totalWh: number | null;
  sessionWh: number | null;
  limitA: number | null;
  phases: number | null;
  /** Current the PWM offers now; null without PWM or on a real board. */
  offeredA: number | null;
  /** The energy manager's limit while it is valid. */
  enforced: { amps: number | null; watts: number | null; until: string } | null;
}

const num = (x: unknown): number | null => (typeof x === "number" && Number.isFinite(x) ? x : null);

export function figures(live: Pick<EvseLive, "vars" | "sim" | "status" | "errors">, now: number): Figures {
  const { vars, sim, status } = live;
  const meter = vars.powermeter as Powermeter | undefined;
  const limits = vars.limits as Limits | undefined;
  const enforced = vars.enforced_limits as EnforcedLimits | undefined;
  const totalWh = num(meter?.energy_Wh_import?.total) ?? num(sim?.meter.energy_Wh_import);
  const powerW = num(meter?.power_W?.total) ?? num(sim?.meter.power_W);
  const c = meter?.current_A ?? sim?.meter.current_A;
  const currents = c ? { L1: num(c.L1), L2: num(c.L2), L3: num(c.L3) } : null;
  const sessionWh = status.txStartWh !== null && totalWh !== null ? totalWh - status.txStartWh : null;
  const duty = sim?.pwm_duty_percent;
  const offeredA = typeof duty === "number" ? dutyToAmps(duty) : null;
  const limitA = num(limits?.max_current);
  const phases = sim ? sim.phases : num(limits?.nr_of_phases_available);
  const until = enforced?.valid_until;
  const enforcedNow =
    until !== undefined && Date.parse(until) > now
      ? { amps: num(enforced?.limits_root_side?.ac_max_current_A), watts: num(enforced?.limits_root_side?.total_power_W), until }
      : null;
  const derived = deriveStatus({
    session: status,
    cp: sim ? sim.cp_state : null,
    relaysClosed: sim ? sim.relays_closed : null,
    powerW,
    errors: live.errors,
    ready: typeof vars.ready === "boolean" ? vars.ready : null,
    phases: sim?.phases ?? null,
    limitA,
  });
  return { status: derived, powerW, currents, totalWh, sessionWh, limitA, phases, offeredA, enforced: enforcedNow };
}
