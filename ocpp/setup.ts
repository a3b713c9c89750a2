// Builds the OCPP charge point with its operations, firmware handling and smart-charging port.
// Loaded only when `ocpp.central_system_url` is set: ocpp-rpc and its schema validators cost about
// a second and tens of MB at start-up, which a charger without OCPP should not pay.
import type { TokenFrontEnd } from "../auth/token-front-end.ts";
import { ChargePoint, type ChargePointDeps } from "./charge-point.ts";
import { FirmwareManager } from "./firmware.ts";
import { registerOperations } from "./operations.ts";
import { MinimalSmartCharging } from "./smart-charging-minimal.ts";

export function createChargePoint(deps: ChargePointDeps, evseCount: number, diagnosticsConfig: () => unknown): ChargePoint {
  const cp = new ChargePoint(deps, evseCount);
  cp.smartCharging = new MinimalSmartCharging(deps.store.kv, evseCount);
  registerOperations(cp, new FirmwareManager(cp, diagnosticsConfig));
  return cp;
}

export type { ChargePoint, TokenFrontEnd };
