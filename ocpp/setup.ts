// Builds the OCPP charge point with its operations, firmware handling and smart-charging adapter.
// Loaded only when `ocpp.central_system_url` is set: ocpp-rpc and its schema validators cost about
// a second and tens of MB at start-up, which a charger without OCPP should not pay.
import type { TokenFrontEnd } from "../auth/token-front-end.ts";
import { ChargePoint, type ChargePointDeps } from "./charge-point.ts";
import { FirmwareManager } from "./firmware.ts";
import { registerOperations } from "./operations.ts";
import { SmartChargingAdapter } from "./smart-charging-adapter.ts";

export interface ChargePointSetup {
  evseCount: number;
  /** max_current_import_A: what GetCompositeSchedule shows where no profile applies. */
  ratedCurrentA: number;
  /** Configuration without secrets, for GetDiagnostics. */
  diagnosticsConfig(): unknown;
}

export function createChargePoint(deps: ChargePointDeps, setup: ChargePointSetup): ChargePoint {
  const cp = new ChargePoint(deps, setup.evseCount);
  cp.smartCharging = new SmartChargingAdapter({
    kv: deps.store.kv,
    config: cp.config,
    connectors: setup.evseCount,
    ratedCurrentA: setup.ratedCurrentA,
    now: deps.now,
    transactionOf: (connectorId) => {
      const tx = cp.evses[connectorId - 1]?.view.transaction;
      return tx ? { id: cp.csmsTransactionId(connectorId) ?? -1, startedAt: Date.parse(tx.started_at) } : null;
    },
    enforceLimits: (connectorId, limits) => cp.evses[connectorId - 1]!.kernel.enforceLimits(limits),
    log: deps.log,
  });
  registerOperations(cp, new FirmwareManager(cp, setup.diagnosticsConfig));
  return cp;
}

export type { ChargePoint, TokenFrontEnd };
