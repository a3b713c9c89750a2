// Public surface of ocpp/smart-charging: OCPP 1.6 charging profiles → per-connector limits.
export { SmartCharging, REFRESH_MS, VALIDITY_MARGIN_MS, MAX_COMPOSITE_DURATION_S } from "./smart-charging.ts";
export { toEnforcedLimits, parseAllowedChargingRateUnits, NO_LIMIT_A } from "./enforced-limits.ts";
export type * from "./types.ts";
