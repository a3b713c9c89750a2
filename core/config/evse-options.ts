// The 52 EvseManager options of behavior.md §15 (2025.1.0 manifest: names, types, defaults),
// plus the per-EVSE options of our own (`sim`, `hid`). Later-version options are unknown keys.
import * as v from "valibot";
import { int } from "../types/schema-helpers.ts";

const atLeast = (min: number) => v.minValue<number, number, string>(min, `must be at least ${min}`);
const atMost = (max: number) => v.maxValue<number, number, string>(max, `must be at most ${max}`);

const bool = (d: boolean) => v.optional(v.boolean(), d);
const str = (d: string) => v.optional(v.string(), d);
const num = (d: number) => v.optional(v.number(), d);
const integer = (d: number) => v.optional(int(), d);
/** Non-negative number: currents, tolerances. A negative value has no meaning and is refused. */
const numMin0 = (d: number) => v.optional(v.pipe(v.number(), atLeast(0)), d);
/** Non-negative integer: durations and counts. */
const intMin0 = (d: number) => v.optional(v.pipe(int(), atLeast(0)), d);

export const EVSE_MANAGER_OPTIONS = {
  connector_id: v.optional(v.pipe(int(), atLeast(1), atMost(128)), 1),
  connector_type: str("Unknown"), // free string: get_evse omits `type` when it is not a ConnectorTypeEnum value
  evse_id: str("DE*PNX*E1234567*1"),
  evse_id_din: str("49A80737A45678"),
  payment_enable_eim: bool(true),
  payment_enable_contract: bool(true),
  // Divides watts into amperes (D5): zero or negative would be nonsense.
  ac_nominal_voltage: v.optional(v.pipe(v.number(), v.gtValue(0, "must be greater than 0")), 230),
  ev_receipt_required: bool(false),
  session_logging: bool(false),
  session_logging_path: str("/tmp"),
  session_logging_xml: bool(true),
  has_ventilation: bool(true),
  max_current_import_A: numMin0(32),
  max_current_export_A: numMin0(32),
  charge_mode: v.optional(
    v.literal("AC", (issue) =>
      issue.input === "DC"
        ? 'must be "AC": DC charging is not supported by this product'
        : `must be "AC", got ${issue.received}`,
    ),
    "AC",
  ),
  ac_hlc_enabled: bool(false),
  ac_hlc_use_5percent: bool(false),
  ac_enforce_hlc: bool(false),
  ac_with_soc: bool(false),
  dc_isolation_voltage_V: integer(0),
  dbg_hlc_auth_after_tstep: bool(false),
  hack_sleep_in_cable_check: integer(0),
  hack_sleep_in_cable_check_volkswagen: integer(0),
  cable_check_wait_number_of_imd_measurements: integer(1),
  cable_check_enable_imd_self_test: bool(true),
  cable_check_wait_below_60V_before_finish: bool(true),
  hack_skoda_enyaq: bool(false),
  hack_present_current_offset: integer(0),
  hack_pause_imd_during_precharge: bool(false),
  hack_allow_bpt_with_iso2: bool(false),
  hack_simplified_mode_limit_10A: bool(false),
  autocharge_use_slac_instead_of_hlc: bool(false),
  enable_autocharge: bool(false),
  logfile_suffix: str("session_uuid"),
  soft_over_current_tolerance_percent: numMin0(10.0),
  soft_over_current_measurement_noise_A: numMin0(0.5),
  hack_fix_hlc_integer_current_requests: bool(false),
  disable_authentication: bool(false),
  sae_j2847_2_bpt_enabled: bool(false),
  sae_j2847_2_bpt_mode: v.optional(v.picklist(["V2H", "V2G"]), "V2G"),
  request_zero_power_in_idle: bool(false),
  external_ready_to_start_charging: bool(false),
  uk_smartcharging_random_delay_enable: bool(false),
  uk_smartcharging_random_delay_max_duration: intMin0(600),
  uk_smartcharging_random_delay_at_any_change: bool(true),
  initial_meter_value_timeout_ms: intMin0(5000),
  switch_3ph1ph_delay_s: intMin0(10),
  switch_3ph1ph_cp_state: v.optional(v.picklist(["X1", "F"]), "X1"),
  soft_over_current_timeout_ms: v.optional(v.pipe(int(), atLeast(6000)), 7000),
  lock_connector_in_state_b: bool(true),
  state_F_after_fault_ms: intMin0(300),
  fail_on_powermeter_errors: bool(true),
} as const;

export type EvseManagerOptionName = keyof typeof EVSE_MANAGER_OPTIONS;
export const EVSE_MANAGER_OPTION_NAMES = Object.keys(EVSE_MANAGER_OPTIONS) as EvseManagerOptionName[];

/** simulation.md §5 item 6 (binding names and defaults); `seed` is ours (repeatable noise). */
export const SimOptionsSchema = v.strictObject({
  max_current_A_import: numMin0(32),
  connector_type: v.optional(v.picklist(["IEC62196Type2Cable", "IEC62196Type2Socket"]), "IEC62196Type2Cable"),
  pp_resistor_ohm: numMin0(220.1),
  keep_plug_state_across_restart: bool(false),
  weld_relays: bool(false),
  seed: v.optional(int()),
});
export type SimConfig = v.InferOutput<typeof SimOptionsSchema>;

const usbId = () => v.optional(v.pipe(int(), atLeast(0), atMost(0xffff)));

/** Real board over USB HID (`board: hid`): which device. All optional: first matching device. */
export const HidOptionsSchema = v.strictObject({
  path: v.optional(v.pipe(v.string(), v.minLength(1, "must not be empty"))),
  vendor_id: usbId(),
  product_id: usbId(),
});
export type HidConfig = v.InferOutput<typeof HidOptionsSchema>;

/** Everything that belongs to one EVSE. */
export const EVSE_ENTRIES = {
  ...EVSE_MANAGER_OPTIONS,
  sim: v.optional(SimOptionsSchema, () => ({})),
  hid: v.optional(HidOptionsSchema, () => ({})),
} as const;

export const EvseConfigSchema = v.strictObject(EVSE_ENTRIES);
export type EvseConfig = v.InferOutput<typeof EvseConfigSchema>;

export function defaultEvseConfig(): EvseConfig {
  return v.parse(EvseConfigSchema, {});
}
