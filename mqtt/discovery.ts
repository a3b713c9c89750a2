// Home Assistant MQTT discovery (integration.md §4): one HA device per EVSE, its entities as
// retained config messages at <discovery_prefix>/<component>/<node_id>/<object_id>/config.
// node_id is one per process (from the topic prefix) and object_id starts with `evse<i>_`, so
// one subscription, <discovery_prefix>/+/<node_id>/+/config, finds every config this process
// ever announced, also those of EVSEs that are no longer configured (bridge.ts clears them).
// Keys as HA's MQTT discovery documents them, in full (no abbreviations).
import type { EvseState } from "../core/index.ts";

export interface DiscoveryEvse {
  index: number;
  evseId: string;
  canSwitchPhases: boolean;
  maxCurrentA: number;
}

export interface DiscoveryOptions {
  discoveryPrefix: string;
  /** `P`, the topic prefix. */
  prefix: string;
  nodeId: string;
  version: string;
}

export interface DiscoveryConfig {
  topic: string;
  config: Record<string, unknown>;
}

/** Every EvseState the kernel has: the `state` enum sensor's options. HA refuses (and logs) a
 *  value an enum sensor does not list, so this is the kernel's list exactly (checked below). */
export const EVSE_STATES = [
  "Disabled",
  "Idle",
  "WaitingForAuthentication",
  "PrepareCharging",
  "WaitingForEnergy",
  "Charging",
  "ChargingPausedEV",
  "ChargingPausedEVSE",
  "StoppingCharging",
  "Finished",
  "T_step_EF",
  "T_step_X1",
  "SwitchPhases",
  "Replug",
] as const satisfies readonly EvseState[];
// A state added to the kernel and not here fails the typecheck.
const everyState: [Exclude<EvseState, (typeof EVSE_STATES)[number]>] extends [never] ? true : false = true;
void everyState;

/** A string usable as an HA node_id / object_id: [a-zA-Z0-9_-]. */
export const slug = (s: string): string => s.replace(/[^a-zA-Z0-9_-]+/g, "_").replace(/^_+|_+$/g, "") || "evse_manager";

/** The object_id prefix of EVSE `index`, and the index back from an object_id. */
export const objectPrefix = (index: number): string => `evse${index}_`;
export function evseIndexOfObjectId(objectId: string): number | null {
  const m = /^evse([1-9][0-9]*)_/.exec(objectId);
  return m ? Number(m[1]) : null;
}

const onOff = (expr: string) => `{{ 'ON' if ${expr} else 'OFF' }}`;

export function discoveryConfigs(evse: DiscoveryEvse, o: DiscoveryOptions): DiscoveryConfig[] {
  const base = `${o.prefix}/evse/${evse.index}`;
  const status = `${base}/status`;
  const device = {
    identifiers: [evse.evseId, `${o.nodeId}_evse${evse.index}`],
    name: `EVSE ${evse.index} (${evse.evseId})`,
    manufacturer: "evse-manager",
    model: "evse-manager",
    sw_version: o.version,
  };
  const out: DiscoveryConfig[] = [];
  const add = (component: string, key: string, name: string, extra: Record<string, unknown>) => {
    const objectId = `${objectPrefix(evse.index)}${key}`;
    out.push({
      topic: `${o.discoveryPrefix}/${component}/${o.nodeId}/${objectId}/config`,
      config: {
        name,
        unique_id: `${o.nodeId}_${objectId}`,
        device,
        availability_topic: `${o.prefix}/availability`,
        payload_available: "online",
        payload_not_available: "offline",
        ...extra,
      },
    });
  };
  const sensor = (key: string, name: string, template: string, unit: string, device_class: string, state_class: string) =>
    add("sensor", key, name, { state_topic: status, value_template: template, unit_of_measurement: unit, device_class, state_class });

  add("sensor", "state", "State", { state_topic: status, value_template: "{{ value_json.state }}", device_class: "enum", options: EVSE_STATES });
  sensor("power", "Power", "{{ value_json.power_W }}", "W", "power", "measurement");
  sensor("session_energy", "Session energy", "{{ value_json.session_energy_Wh }}", "Wh", "energy", "total_increasing");
  sensor("total_energy", "Total energy", "{{ value_json.total_energy_Wh }}", "Wh", "energy", "total_increasing");
  for (const l of ["L1", "L2", "L3"]) {
    sensor(`current_${l.toLowerCase()}`, `Current ${l}`, `{{ value_json.current_A.${l} }}`, "A", "current", "measurement");
    sensor(`voltage_${l.toLowerCase()}`, `Voltage ${l}`, `{{ value_json.voltage_V.${l} }}`, "V", "voltage", "measurement");
  }
  const binary = (key: string, name: string, device_class: string, expr: string) =>
    add("binary_sensor", key, name, { state_topic: status, value_template: onOff(expr), payload_on: "ON", payload_off: "OFF", device_class });
  binary("plugged", "Plugged in", "plug", "value_json.plugged");
  binary("charging", "Charging", "battery_charging", "value_json.charging");
  binary("problem", "Problem", "problem", "value_json.errors | length > 0");

  add("switch", "enabled", "Enabled", {
    state_topic: status,
    value_template: onOff("value_json.enabled"),
    command_topic: `${base}/control/enabled/set`,
    payload_on: "ON",
    payload_off: "OFF",
    state_on: "ON",
    state_off: "OFF",
  });
  // 0 pauses; 1…5 A are refused by the control path (integration.md §2) and reported on
  // …/control/result, HA's number entity cannot express the hole.
  add("number", "max_current", "Max current", {
    state_topic: status,
    value_template: "{{ value_json.max_current_A }}",
    command_topic: `${base}/control/max_current_A/set`,
    min: 0,
    max: evse.maxCurrentA,
    step: 1,
    mode: "box",
    unit_of_measurement: "A",
    device_class: "current",
  });
  if (evse.canSwitchPhases) {
    add("select", "phases", "Phases", {
      state_topic: status,
      value_template: "{{ value_json.phases }}",
      command_topic: `${base}/control/phases/set`,
      options: ["1", "3"],
    });
  }
  add("button", "pause", "Pause charging", { command_topic: `${base}/cmd/pause_charging`, payload_press: "{}" });
  add("button", "resume", "Resume charging", { command_topic: `${base}/cmd/resume_charging`, payload_press: "{}" });
  return out;
}
