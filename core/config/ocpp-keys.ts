// The OCPP 1.6 configuration keys the charge point knows (ocpp.md §7): all Core keys of OCPP 1.6
// §9.1 plus the LocalAuthListManagement, Reservation and SmartCharging keys, with libocpp's
// defaults. Values are strings on the wire (GetConfiguration/ChangeConfiguration); each key has a
// kind that says which strings it accepts. Pure data: the config file schema and the OCPP adapter
// both read it.

export type KeyKind = "bool" | "int" | "string" | "measurands" | "profiles";

export interface KeyDefinition {
  kind: KeyKind;
  readonly: boolean;
  /** Default value as sent on the wire; "" for an empty list. */
  default: string;
  /** Set by the program (NumberOfConnectors, SupportedFeatureProfiles): not even the config file changes it. */
  computed?: true;
  /** For measurand lists: the key holding the maximum number of items. */
  maxLengthKey?: string;
  /** Writable as the standard says, but the kernel has one behaviour: only this value is accepted
   *  (libocpp refuses the others the same way), so a CSMS is never told a setting took effect that did not. */
  fixed?: true;
}

/** ocpp.md §6. */
export const MEASURANDS = [
  "Energy.Active.Import.Register",
  "Energy.Active.Export.Register",
  "Power.Active.Import",
  "Current.Import",
  "Current.Offered",
  "Voltage",
  "Frequency",
  "Temperature",
  "SoC",
] as const;
export type Measurand = (typeof MEASURANDS)[number];

export const SUPPORTED_FEATURE_PROFILES = "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger";

const rw = (kind: KeyKind, d: string, extra: Partial<KeyDefinition> = {}): KeyDefinition => ({ kind, readonly: false, default: d, ...extra });
const ro = (kind: KeyKind, d: string, extra: Partial<KeyDefinition> = {}): KeyDefinition => ({ kind, readonly: true, default: d, ...extra });

export const OCPP_KEYS: Record<string, KeyDefinition> = {
  // Core (OCPP 1.6 §9.1)
  AllowOfflineTxForUnknownId: rw("bool", "false"),
  AuthorizationCacheEnabled: rw("bool", "true"),
  AuthorizeRemoteTxRequests: rw("bool", "false"),
  BlinkRepeat: rw("int", "0"),
  ClockAlignedDataInterval: rw("int", "0"),
  ConnectionTimeOut: rw("int", "60"),
  ConnectorPhaseRotation: rw("string", "0.Unknown"),
  ConnectorPhaseRotationMaxLength: ro("int", "10"),
  GetConfigurationMaxKeys: ro("int", "100"),
  HeartbeatInterval: rw("int", "86400"),
  LightIntensity: rw("int", "100"),
  LocalAuthorizeOffline: rw("bool", "true"),
  LocalPreAuthorize: rw("bool", "false"),
  MaxEnergyOnInvalidId: rw("int", "0"),
  MeterValuesAlignedData: rw("measurands", "Energy.Active.Import.Register", { maxLengthKey: "MeterValuesAlignedDataMaxLength" }),
  MeterValuesAlignedDataMaxLength: ro("int", "10"),
  MeterValuesSampledData: rw("measurands", "Energy.Active.Import.Register", { maxLengthKey: "MeterValuesSampledDataMaxLength" }),
  MeterValuesSampledDataMaxLength: ro("int", "10"),
  MeterValueSampleInterval: rw("int", "60"),
  MinimumStatusDuration: rw("int", "0"),
  NumberOfConnectors: ro("int", "1", { computed: true }),
  ResetRetries: rw("int", "1"),
  // The kernel always ends the transaction and unlocks when the EV unplugs (behavior.md).
  StopTransactionOnEVSideDisconnect: rw("bool", "true", { fixed: true }),
  StopTransactionOnInvalidId: rw("bool", "true"),
  StopTxnAlignedData: rw("measurands", "", { maxLengthKey: "StopTxnAlignedDataMaxLength" }),
  StopTxnAlignedDataMaxLength: ro("int", "10"),
  StopTxnSampledData: rw("measurands", "", { maxLengthKey: "StopTxnSampledDataMaxLength" }),
  StopTxnSampledDataMaxLength: ro("int", "10"),
  SupportedFeatureProfiles: ro("profiles", SUPPORTED_FEATURE_PROFILES, { computed: true }),
  SupportedFeatureProfilesMaxLength: ro("int", "6"),
  TransactionMessageAttempts: rw("int", "3"),
  TransactionMessageRetryInterval: rw("int", "10"),
  UnlockConnectorOnEVSideDisconnect: rw("bool", "true", { fixed: true }),
  WebSocketPingInterval: rw("int", "0"),
  // LocalAuthListManagement
  LocalAuthListEnabled: rw("bool", "true"),
  LocalAuthListMaxLength: ro("int", "1000"),
  SendLocalListMaxLength: ro("int", "250"),
  // Reservation
  ReserveConnectorZeroSupported: ro("bool", "false"),
  // SmartCharging
  ChargeProfileMaxStackLevel: ro("int", "100"),
  ChargingScheduleAllowedChargingRateUnit: ro("string", "Current,Power"),
  ChargingScheduleMaxPeriods: ro("int", "1000"),
  ConnectorSwitch3to1PhaseSupported: ro("bool", "false"),
  MaxChargingProfilesInstalled: ro("int", "1000"),
};

/** libocpp spells this key without the capital S; both names reach the same key. */
export const KEY_ALIASES: Record<string, string> = { WebsocketPingInterval: "WebSocketPingInterval" };

export const canonicalKey = (name: string): string | null => {
  const key = KEY_ALIASES[name] ?? name;
  return key in OCPP_KEYS ? key : null;
};

/** The wire form of `raw` for key `def` (config file or ChangeConfiguration), or a reason it is not
 *  acceptable. `maxItems` bounds lists. */
export function keyValue(def: KeyDefinition, raw: string, maxItems = Infinity): { value: string } | { error: string } {
  const result = normalizeKeyValue(def.kind, raw, maxItems);
  if ("value" in result && def.fixed && result.value !== def.default) return { error: `only ${def.default} is supported: this charger has no other behaviour` };
  return result;
}

/** The wire form of `raw` for key kind `kind`, or a reason it is not acceptable. `maxItems` bounds lists. */
function normalizeKeyValue(kind: KeyKind, raw: string, maxItems = Infinity): { value: string } | { error: string } {
  const text = raw.trim();
  switch (kind) {
    case "bool": {
      const lower = text.toLowerCase();
      if (lower === "true" || lower === "false") return { value: lower };
      return { error: 'must be "true" or "false"' };
    }
    case "int":
      if (/^[0-9]{1,9}$/.test(text)) return { value: String(Number(text)) };
      return { error: "must be a whole number ≥ 0" };
    case "measurands": {
      if (text === "") return { value: "" };
      const items = text.split(",").map((s) => s.trim());
      const bad = items.find((m) => !(MEASURANDS as readonly string[]).includes(m));
      if (bad !== undefined) return { error: `"${bad}" is not a supported measurand (${MEASURANDS.join(", ")})` };
      if (items.length > maxItems) return { error: `at most ${maxItems} measurands` };
      return { value: items.join(",") };
    }
    case "string":
    case "profiles":
      if (raw.length > 500) return { error: "is longer than 500 characters" };
      return { value: raw };
  }
}
