// In-process fakes for the API tests: a kernel that records calls, a board with sim control.
import { Metrics, PublicationLog, createApp, type ApiContext, type EvseRuntime } from "../api/index.ts";
import {
  KernelNotStartedError,
  type ActiveError,
  type CommandName,
  type EvseKernel,
  type KernelStatus,
  type LocalControlRefusal,
  type LocalControlRequest,
} from "../core/kernel-api.ts";
import type { BoardHealth, SimControl, SimState } from "../rt-worker/board-handle.ts";

export class FakeKernel implements EvseKernel {
  calls: { name: string; args: unknown }[] = [];
  limits: unknown[] = [];
  isStarted = true;
  activeErrors: ActiveError[] = [];
  results: Partial<Record<CommandName, unknown>> = {
    get_evse: { id: 1, connectors: [{ id: 1, type: "Unknown" }] },
    pause_charging: true,
  };
  boot(): void {}
  boardInput(): void {}
  async command(name: CommandName, args: Record<string, unknown>): Promise<unknown> {
    if (!this.isStarted && name !== "get_evse" && name !== "external_ready_to_start_charging") throw new KernelNotStartedError(name);
    this.calls.push({ name, args });
    return this.results[name] ?? null;
  }
  async enforceLimits(value: unknown): Promise<void> {
    this.limits.push(value);
  }
  async tick(): Promise<void> {}
  async idle(): Promise<void> {}
  started(): boolean {
    return this.isStarted;
  }
  errors(): ActiveError[] {
    return this.activeErrors;
  }
  async shutdown(): Promise<void> {}
  controls: LocalControlRequest[] = [];
  controlRefusal: LocalControlRefusal = null;
  kernelStatus: KernelStatus = {
    state: "Idle",
    cp: "A",
    relays_closed: false,
    enabled: true,
    faulted: false,
    offered_current_A: 0,
    max_current_A: 32,
    own_limit_A: 32,
    hardware_max_current_A: 32,
    phases: 3,
    transaction_active: false,
    session_uuid: null,
    id_tag: null,
    meter: null,
    session_energy_Wh: 0,
    local_limit_A: null,
    failsafe: false,
    site_share_A: null,
  };
  status(): KernelStatus {
    return structuredClone(this.kernelStatus);
  }
  async localControl(request: LocalControlRequest): Promise<LocalControlRefusal> {
    if (!this.isStarted && (request.enabled !== undefined || request.phases !== undefined)) throw new KernelNotStartedError("control");
    if (this.controlRefusal !== null) return this.controlRefusal;
    this.controls.push(request);
    if (request.max_current_A !== undefined) this.kernelStatus.local_limit_A = request.max_current_A;
    if (request.enabled !== undefined) this.kernelStatus.enabled = request.enabled;
    if (request.phases !== undefined) this.kernelStatus.phases = request.phases;
    return null;
  }
  async setSiteShare(currentA: number | null): Promise<void> {
    this.kernelStatus.site_share_A = currentA;
  }
}

export class CarScriptError extends Error {
  override name = "CarScriptError";
}
export class CarBusyError extends Error {
  override name = "CarBusyError";
}

export class FakeSim implements SimControl {
  script: string | null = null;
  welded = false;
  state(): SimState {
    return {
      cp_state: "A",
      pwm_duty_percent: null,
      relays_closed: false,
      phases: 3,
      locked: false,
      rcd_current_mA: 0,
      meter: { energy_Wh_import: 0, power_W: 0, current_A: { L1: 0, L2: 0, L3: 0 }, voltage_V: { L1: 230, L2: 230, L3: 230 } },
      car: { running: this.script !== null, script: this.script, state: "UNPLUGGED" },
    };
  }
  postScript(script: string, replace: boolean): void {
    const bad = script.split(";").map((s) => s.trim().split(/\s+/)[0]).find((cmd) => cmd === "frobnicate");
    if (bad) throw new CarScriptError(`unknown command "${bad}"`);
    if (this.script !== null && !replace) throw new CarBusyError("a car script is running; post with replace: true to swap it");
    this.script = script;
  }
  stopScript(): void {
    this.script = null;
  }
  setWeldRelays(weld: boolean): void {
    this.welded = weld;
  }
}

export interface Harness {
  app: ReturnType<typeof createApp>;
  ctx: ApiContext;
  kernel: FakeKernel;
  sim: FakeSim;
  health: BoardHealth;
  pubs: PublicationLog;
  evse: EvseRuntime;
}

export function harness(options: { token?: string | null; simulated?: boolean; keepAliveMs?: number; maxUnsent?: number } = {}): Harness {
  const kernel = new FakeKernel();
  const sim = new FakeSim();
  const health: BoardHealth = { worker_running: true, board_answering: true };
  const pubs = new PublicationLog({ maxUnsent: options.maxUnsent });
  const evse: EvseRuntime = {
    index: 1,
    kernel,
    board: { health: () => ({ ...health }), sim: options.simulated === false ? null : sim },
    publications: pubs,
  };
  let now = 1_000_000;
  const ctx: ApiContext = {
    version: "9.9.9",
    token: options.token ?? null,
    evses: [evse],
    metrics: new Metrics(),
    now: () => (now += 1500),
    startedAt: 1_000_000,
    keepAliveMs: options.keepAliveMs,
  };
  return { app: createApp(ctx), ctx, kernel, sim, health, pubs, evse };
}

export const post = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
});
