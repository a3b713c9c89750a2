// From main.ts's per-EVSE runtime to the bridge's BridgeEvse: commands go through the HTTP API's
// own path (api/run-command.ts), status and control through the §1/§2 functions.
import { ApiError } from "../api/errors.ts";
import type { EvseRuntime } from "../api/context.ts";
import { runCommand } from "../api/run-command.ts";
import { applyControl } from "../api/control.ts";
import { statusSummary } from "../api/status.ts";
import type { EvseConfig } from "../core/config/index.ts";
import type { HardwareCapabilities } from "../core/types/index.ts";
import type { BridgeEvse } from "./bridge.ts";

export function bridgeEvse(evse: EvseRuntime, config: EvseConfig): BridgeEvse {
  const capabilities = () => evse.publications.values().hw_capabilities as HardwareCapabilities | null;
  return {
    index: evse.index,
    evseId: config.evse_id,
    publications: evse.publications,
    errors: () => evse.kernel.errors(),
    status: () => statusSummary(evse),
    control: (body) => applyControl(evse, body),
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

