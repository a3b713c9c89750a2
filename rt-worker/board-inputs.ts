// Main-thread side of the event ring: turns one Float64 record into the BoardInput the kernel
// expects (interface.md objects are built here, never in the worker, so the worker allocates
// nothing and the objects carry main-thread time).
import type { BoardInput, BspEventEnum } from "../core/ports.ts";
import type { HardwareCapabilities, Powermeter, Telemetry } from "../core/types/index.ts";
import { BOARD_ERRORS, CP_STATES } from "../board-protocol/index.ts";
import { CapabilitySlot, InputKind, MeterSlot, TelemetrySlot } from "./shm-layout.ts";

export interface RecordContext {
  meterId: string;
  now(): number;
}

/** The record at offset `o` of `events` as a BoardInput, or null for a record it does not know. */
export function recordToInput(events: Float64Array, o: number, ctx: RecordContext): BoardInput | null {
  const kind = events[o]!;
  const at = (slot: number) => events[o + slot]!;
  switch (kind) {
    case InputKind.CpEvent: {
      const name = CP_STATES[at(1)];
      return name === undefined ? null : { kind: "event", event: name as BspEventEnum };
    }
    case InputKind.PowerEvent:
      return { kind: "event", event: at(1) === 1 ? "PowerOn" : "PowerOff" };
    case InputKind.Capabilities:
      return { kind: "capabilities", value: capabilities(at) };
    case InputKind.Telemetry:
      return { kind: "telemetry", value: telemetry(at) };
    case InputKind.Meter:
      return { kind: "powermeter", value: powermeter(at, ctx) };
    case InputKind.ErrorRaised:
    case InputKind.ErrorCleared: {
      const info = BOARD_ERRORS[at(1)];
      if (info === undefined) return null;
      return kind === InputKind.ErrorRaised
        ? { kind: "error_raised", type: info.type, sub_type: "", message: info.message, severity: "High" }
        : { kind: "error_cleared", type: info.type, sub_type: "" };
    }
    default:
      return null;
  }
}

function capabilities(at: (slot: number) => number): HardwareCapabilities {
  const c: HardwareCapabilities = {
    max_current_A_import: at(CapabilitySlot.MAX_IMPORT_A),
    min_current_A_import: at(CapabilitySlot.MIN_IMPORT_A),
    max_phase_count_import: at(CapabilitySlot.MAX_PHASES_IMPORT),
    min_phase_count_import: at(CapabilitySlot.MIN_PHASES_IMPORT),
    max_current_A_export: at(CapabilitySlot.MAX_EXPORT_A),
    min_current_A_export: at(CapabilitySlot.MIN_EXPORT_A),
    max_phase_count_export: at(CapabilitySlot.MAX_PHASES_EXPORT),
    min_phase_count_export: at(CapabilitySlot.MIN_PHASES_EXPORT),
    supports_changing_phases_during_charging: at(CapabilitySlot.PHASE_SWITCHING) === 1,
    connector_type: at(CapabilitySlot.SOCKET) === 1 ? "IEC62196Type2Socket" : "IEC62196Type2Cable",
  };
  const plug = at(CapabilitySlot.MAX_PLUG_TEMP_C);
  if (!Number.isNaN(plug)) c.max_plug_temperature_C = plug;
  return c;
}

function telemetry(at: (slot: number) => number): Telemetry {
  const t: Telemetry = {
    evse_temperature_C: at(TelemetrySlot.EVSE_TEMP_C),
    fan_rpm: at(TelemetrySlot.FAN_RPM),
    supply_voltage_12V: at(TelemetrySlot.SUPPLY_12V),
    supply_voltage_minus_12V: at(TelemetrySlot.SUPPLY_MINUS_12V),
    relais_on: at(TelemetrySlot.RELAIS_ON) === 1,
  };
  const plug = at(TelemetrySlot.PLUG_TEMP_C);
  if (!Number.isNaN(plug)) t.plug_temperature_C = plug;
  return t;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Energies in whole Wh: per phase rounded, total = the rounded sum (simulation.md §2.7). */
function powermeter(at: (slot: number) => number, ctx: RecordContext): Powermeter {
  const l = [0, 1, 2].map((k) => at(MeterSlot.IMPORT_L1_Wh + k));
  const p = [0, 1, 2].map((k) => Math.round(at(MeterSlot.POWER_L1_W + k)));
  return {
    timestamp: new Date(ctx.now()).toISOString(),
    meter_id: ctx.meterId,
    phase_seq_error: at(MeterSlot.PHASE_SEQ_ERROR) === 1,
    energy_Wh_import: {
      total: Math.round(at(MeterSlot.IMPORT_TOTAL_Wh)),
      L1: Math.round(l[0]!),
      L2: Math.round(l[1]!),
      L3: Math.round(l[2]!),
    },
    energy_Wh_export: { total: Math.round(at(MeterSlot.EXPORT_TOTAL_Wh)) },
    power_W: { total: p[0]! + p[1]! + p[2]!, L1: p[0]!, L2: p[1]!, L3: p[2]! },
    voltage_V: {
      L1: r2(at(MeterSlot.VOLTAGE_L1_V)),
      L2: r2(at(MeterSlot.VOLTAGE_L1_V + 1)),
      L3: r2(at(MeterSlot.VOLTAGE_L1_V + 2)),
    },
    current_A: {
      L1: r2(at(MeterSlot.CURRENT_L1_A)),
      L2: r2(at(MeterSlot.CURRENT_L1_A + 1)),
      L3: r2(at(MeterSlot.CURRENT_L1_A + 2)),
      N: r2(at(MeterSlot.CURRENT_L1_A + 3)),
    },
    frequency_Hz: {
      L1: at(MeterSlot.FREQ_L1_Hz),
      L2: at(MeterSlot.FREQ_L1_Hz + 1),
      L3: at(MeterSlot.FREQ_L1_Hz + 2),
    },
    temperatures: [{ temperature: Math.round(at(MeterSlot.TEMP_C) * 10) / 10, location: "Body" }],
  };
}
