// Public surface of ocpp/: the charging front end main.ts wires in. Always a token front end
// (POST /api/v1/tokens, ocpp.md §2); with `ocpp.central_system_url` also the OCPP 1.6J charge point.
import type { AuthOptions, OcppOptions } from "../core/config/index.ts";
import type { EvseKernel } from "../core/kernel-api.ts";
import type { OcppStore } from "../store/index.ts";
import { EvseView } from "../auth/evse-view.ts";
import { TokenFrontEnd, type FrontEndEvse } from "../auth/token-front-end.ts";
import { TokenValidator } from "../auth/validator.ts";
import type { ChargePoint } from "./charge-point.ts";

export type { ChargePoint } from "./charge-point.ts";
export { TokenFrontEnd, type TokenResult, type TokenRequest } from "../auth/token-front-end.ts";

export interface FrontEndDeps {
  ocpp: OcppOptions;
  auth: AuthOptions;
  store: OcppStore;
  version: string;
  evseCount: number;
  log(line: string): void;
  now(): number;
  restart(kind: "Soft" | "Hard"): void;
  /** Configuration without secrets, for GetDiagnostics. */
  diagnosticsConfig(): unknown;
  /** max_current_import_A: what GetCompositeSchedule shows where no profile applies (default 32). */
  ratedCurrentA?: number;
}

export interface OcppVisibility {
  configured: boolean;
  connected: boolean;
  registration: "Accepted" | "Pending" | "Rejected" | null;
  queued_transaction_messages: number;
  last_error: string | null;
}

export class ChargingFrontEnd {
  readonly chargePoint: ChargePoint | null;
  readonly tokens: TokenFrontEnd;
  private readonly plain: FrontEndEvse[] = [];
  private readonly views: EvseView[] = [];

  /** The OCPP part is loaded only when it is configured (ocpp/setup.ts). */
  static async create(deps: FrontEndDeps): Promise<ChargingFrontEnd> {
    if (!deps.ocpp.central_system_url) return new ChargingFrontEnd(deps, null);
    const { createChargePoint } = await import("./setup.ts");
    const cpDeps = { options: deps.ocpp, auth: deps.auth, store: deps.store, version: deps.version, log: deps.log, now: deps.now, restart: deps.restart };
    return new ChargingFrontEnd(deps, createChargePoint(cpDeps, { evseCount: deps.evseCount, ratedCurrentA: deps.ratedCurrentA ?? 32, diagnosticsConfig: deps.diagnosticsConfig }));
  }

  private constructor(
    private readonly deps: FrontEndDeps,
    chargePoint: ChargePoint | null,
  ) {
    const evses: FrontEndEvse[] = [];
    this.chargePoint = chargePoint;
    const cp = this.chargePoint;
    const validator = new TokenValidator(cp, deps.auth.tokens, deps.now);
    this.tokens = new TokenFrontEnd({
      evses,
      validator,
      connectionTimeoutS: () => (cp ? cp.config.int("ConnectionTimeOut") : deps.auth.connection_timeout_s),
      reservationOn: (evse) => cp?.reservations.on(evse) ?? null,
      log: deps.log,
    });
    this.plain = evses;
    if (cp) cp.frontEnd = this.tokens;
  }

  /** Before the kernel boots: every publication of this EVSE is followed from the first one. */
  attach(index: number, kernel: EvseKernel): (name: string, value: unknown) => void {
    const cp = this.chargePoint;
    if (cp) {
      const e = cp.attach(index, kernel);
      this.plain[index - 1] = { view: e.view, kernel, faulted: () => e.fault !== null };
      return (name, value) => cp.publication(index, name, value);
    }
    const view = new EvseView(index);
    this.views[index - 1] = view;
    this.plain[index - 1] = { view, kernel, faulted: () => kernel.errors().some((x) => x.type === "evse_manager/Inoperative") };
    return (name, value) => {
      if (name !== "session_event") return;
      const ev = value as Parameters<EvseView["observe"]>[0];
      view.observe(ev, this.deps.now());
      this.tokens.sessionEvent(index, ev.event);
    };
  }

  start(): void {
    this.chargePoint?.start();
  }

  async stop(): Promise<void> {
    this.tokens.stop();
    await this.chargePoint?.stop();
  }

  /** Prometheus lines appended to GET /metrics (docs/metrics.md). */
  metricsText(): string {
    const cp = this.chargePoint;
    if (!cp) return "";
    const esc = (s: string) => s.replace(/["\\\n]/g, "_");
    const lines = [
      "# HELP evse_ocpp_connected 1 while the WebSocket to the CSMS is open.",
      "# TYPE evse_ocpp_connected gauge",
      `evse_ocpp_connected ${cp.connection.connected ? 1 : 0}`,
      "# HELP evse_ocpp_messages_total OCPP messages by direction, action and kind (CALL, CALLRESULT, CALLERROR).",
      "# TYPE evse_ocpp_messages_total counter",
      ...[...cp.metrics.messages].map(([k, n]) => {
        const [direction, action, kind] = k.split("|") as [string, string, string];
        return `evse_ocpp_messages_total{direction="${direction}",action="${esc(action)}",kind="${kind}"} ${n}`;
      }),
      "# HELP evse_ocpp_callerrors_total CALLERROR frames sent or received.",
      "# TYPE evse_ocpp_callerrors_total counter",
      `evse_ocpp_callerrors_total ${cp.metrics.callErrors}`,
      "# HELP evse_ocpp_reconnects_total Connection attempts after the first.",
      "# TYPE evse_ocpp_reconnects_total counter",
      `evse_ocpp_reconnects_total ${cp.connection.reconnects}`,
      "# HELP evse_ocpp_queue_length Transaction messages waiting in the persistent queue.",
      "# TYPE evse_ocpp_queue_length gauge",
      `evse_ocpp_queue_length ${cp.queue.length}`,
    ];
    return lines.join("\n") + "\n";
  }

  /** Each connector's OCPP status as last computed (the dashboard shows it); empty without OCPP. */
  connectorStatuses(): { connector_id: number; status: string; error_code: string }[] {
    const cp = this.chargePoint;
    if (!cp) return [];
    return [0, ...cp.evses.map((e) => e.index)].map((id) => {
      const s = cp.effectiveStatus(id);
      return { connector_id: id, status: s.status, error_code: s.errorCode };
    });
  }

  visibility(): OcppVisibility {
    return this.chargePoint?.snapshot() ?? { configured: false, connected: false, registration: null, queued_transaction_messages: 0, last_error: null };
  }
}
