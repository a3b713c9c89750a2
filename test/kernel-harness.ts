// Test harness for the kernel: a fake clock, a fake board that behaves like the simulated board
// (reports the CP the car shows, F while the EVSE drives F, PowerOn once allowed in C with PWM,
// PowerOff when the car leaves C or permission is withdrawn), a fake meter and an in-memory store.
import * as v from "valibot";
import { defaultEvseConfig, type ControlOptions, type EvseConfig } from "../core/config/index.ts";
import { Kernel } from "../core/index.ts";
import type { CommandName, VariableName } from "../core/kernel-api.ts";
import type { BoardPort, MeterPort, TransactionRecord, TransactionStore } from "../core/ports.ts";
import {
  SessionEventSchema,
  type Ampacity,
  type EnforcedLimits,
  type HardwareCapabilities,
  type Powermeter,
  type PowerOnOff,
  type SessionEvent,
  type TransactionReq,
  type TransactionStartResponse,
  type TransactionStopResponse,
} from "../core/types/index.ts";

export const T0 = Date.parse("2025-03-01T12:00:00.000Z");

export class FakeClock {
  t = T0;
  now(): number {
    return this.t;
  }
}

export type CarCp = "A" | "B" | "C" | "D" | "E";

export class FakeBoard implements BoardPort {
  calls: string[] = [];
  kernel: Kernel | null = null;
  car: CarCp = "A";
  output: "X1" | "F" | "PWM" = "X1";
  duty: number | null = null;
  allowed = false;
  relays = false;
  weld = false;
  locked = false;
  pp: Ampacity = "A_32";
  private reported: string | null = null;

  enable(value: boolean): void {
    this.calls.push(`enable(${value})`);
  }
  pwm_on(value: number): void {
    this.calls.push(`pwm_on(${value.toFixed(2)})`);
    if (!(value > 0 && value < 100)) throw new Error(`pwm_on(${value}) outside 0 < d < 100`);
    this.output = "PWM";
    this.duty = value;
    this.sync();
  }
  pwm_off(): void {
    this.calls.push("pwm_off");
    this.output = "X1";
    this.duty = null;
    this.sync();
  }
  pwm_F(): void {
    this.calls.push("pwm_F");
    this.output = "F";
    this.duty = null;
    this.sync();
  }
  allow_power_on(value: PowerOnOff): void {
    this.calls.push(`allow_power_on(${value.allow_power_on},${value.reason})`);
    this.allowed = value.allow_power_on;
    this.sync();
  }
  ac_switch_three_phases_while_charging(value: boolean): void {
    this.calls.push(`ac_switch_three_phases_while_charging(${value})`);
  }
  ac_set_overcurrent_limit_A(value: number): void {
    this.calls.push(`ac_set_overcurrent_limit_A(${value})`);
  }
  ac_read_pp_ampacity() {
    this.calls.push("ac_read_pp_ampacity");
    return { ampacity: this.pp };
  }
  lock(): void {
    this.calls.push("lock");
    this.locked = true;
  }
  unlock(): void {
    this.calls.push("unlock");
    this.locked = false;
  }

  /** The CP the board sees: F while the EVSE drives F, else what the car shows. */
  get cp(): string {
    return this.output === "F" ? "F" : this.car;
  }

  setCar(cp: CarCp): void {
    this.car = cp;
    this.sync();
  }

  setWeld(weld: boolean): void {
    this.weld = weld;
    this.sync();
  }

  /** Reports changes in the simulated board's order: CP event first, then the relay event. */
  sync(): void {
    const cp = this.cp;
    if (cp !== this.reported) {
      this.reported = cp;
      this.kernel?.boardInput({ kind: "event", event: cp as "A" });
    }
    // Like the simulated board: closed relays stay closed in C/D while permitted (even with PWM
    // off, which is what the kernel's 6 s C1 rule is for); they close only on C2 with permission.
    const inC = cp === "C" || cp === "D";
    if (this.relays && !(this.allowed && inC) && !this.weld) {
      this.relays = false;
      this.kernel?.boardInput({ kind: "event", event: "PowerOff" });
    } else if (!this.relays && this.allowed && inC && this.output === "PWM") {
      this.relays = true;
      this.kernel?.boardInput({ kind: "event", event: "PowerOn" });
    }
  }

  /** Calls since the last take, for "what did the kernel send" assertions. */
  take(): string[] {
    const out = this.calls;
    this.calls = [];
    return out;
  }
}

export class FakeMeter implements MeterPort {
  starts: TransactionReq[] = [];
  stops: string[] = [];
  startResponse: TransactionStartResponse = { status: "OK" };
  stopResponse: TransactionStopResponse = { status: "NOT_SUPPORTED", error: "fake" };
  async start_transaction(value: TransactionReq): Promise<TransactionStartResponse> {
    this.starts.push(value);
    return this.startResponse;
  }
  async stop_transaction(id: string): Promise<TransactionStopResponse> {
    this.stops.push(id);
    return this.stopResponse;
  }
}

export class MemoryStore implements TransactionStore {
  record: TransactionRecord | null = null;
  saves = 0;
  load(): TransactionRecord | null {
    return this.record === null ? null : structuredClone(this.record);
  }
  save(record: TransactionRecord): void {
    this.saves++;
    this.record = structuredClone(record);
  }
  clear(): void {
    this.record = null;
  }
}

export const CAPABILITIES: HardwareCapabilities = {
  max_current_A_import: 32,
  min_current_A_import: 6,
  max_phase_count_import: 3,
  min_phase_count_import: 1,
  max_current_A_export: 16,
  min_current_A_export: 0,
  max_phase_count_export: 3,
  min_phase_count_export: 1,
  supports_changing_phases_during_charging: true,
  connector_type: "IEC62196Type2Cable",
};

export const TOKEN_A = {
  id_token: { value: "RFID0001", type: "ISO14443" as const },
  authorization_type: "RFID" as const,
};
export const AUTH_A = { provided_token: TOKEN_A, validation_result: { authorization_status: "Accepted" as const } };
export const FREE_TOKEN = {
  id_token: { value: "FREESERVICE", type: "Local" },
  authorization_type: "RFID",
  prevalidated: true,
};

export function reading(totalWh: number, clock: FakeClock, currentA?: number): Powermeter {
  const m: Powermeter = { timestamp: new Date(clock.now()).toISOString(), energy_Wh_import: { total: totalWh } };
  if (currentA !== undefined) m.current_A = { L1: currentA, L2: currentA, L3: currentA };
  return m;
}

export function enf(currentA: number | undefined, clock: FakeClock, extra: Partial<EnforcedLimits["limits_root_side"]> = {}, validForMs = 3.6e9): EnforcedLimits {
  return {
    uuid: "node",
    valid_until: new Date(clock.now() + validForMs).toISOString(),
    limits_root_side: { ...(currentA !== undefined ? { ac_max_current_A: currentA } : {}), ...extra },
  };
}

export function en(source: string, state: "Enable" | "Disable" | "Unassigned", priority: number, connector_id = 0) {
  return { connector_id, cmd_source: { enable_source: source, enable_state: state, enable_priority: priority } };
}

export interface HarnessOptions {
  config?: Partial<EvseConfig>;
  capabilities?: Partial<HardwareCapabilities>;
  meter?: FakeMeter | null;
  store?: MemoryStore;
  /** Feed capabilities and a first meter reading and let the kernel start (default true). */
  start?: boolean;
  /** CP the car shows before the kernel starts. */
  car?: CarCp;
  /** Local control options (integration.md §2); the kernel's defaults when absent. */
  control?: ControlOptions;
}

export class Harness {
  readonly clock = new FakeClock();
  readonly board = new FakeBoard();
  readonly meter: FakeMeter | null;
  readonly store: MemoryStore;
  readonly config: EvseConfig;
  readonly kernel: Kernel;
  publications: { name: VariableName; value: unknown }[] = [];
  logs: string[] = [];
  private uuids = 0;

  constructor(opts: HarnessOptions = {}) {
    this.meter = opts.meter === undefined ? new FakeMeter() : opts.meter;
    this.store = opts.store ?? new MemoryStore();
    this.config = { ...defaultEvseConfig(), ...opts.config };
    this.kernel = new Kernel({
      clock: this.clock,
      board: this.board,
      meter: this.meter,
      store: this.store,
      config: this.config,
      publish: (name, value) => {
        if (name === "session_event") v.parse(SessionEventSchema, value); // closed schema, every event
        this.publications.push({ name, value: structuredClone(value) });
      },
      log: (line) => this.logs.push(line),
      newUuid: () => `uuid-${++this.uuids}`,
      nodeId: "evse_manager_1",
      ...(opts.control ? { control: opts.control } : {}),
    });
    this.board.kernel = this.kernel;
    if (opts.car) this.board.car = opts.car;
  }

  static async start(opts: HarnessOptions = {}): Promise<Harness> {
    const h = new Harness(opts);
    h.kernel.boot();
    if (opts.start !== false) {
      h.input({ kind: "capabilities", value: { ...CAPABILITIES, ...opts.capabilities } });
      h.input({ kind: "powermeter", value: reading(0, h.clock) });
      h.board.sync();
      await h.kernel.idle();
    }
    return h;
  }

  input(input: Parameters<Kernel["boardInput"]>[0]): void {
    this.kernel.boardInput(input);
  }

  async settle(): Promise<void> {
    await this.kernel.idle();
  }

  /** Advances the fake clock in 100 ms ticks, like the host's timer. */
  async advance(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 100) {
      this.clock.t += 100;
      await this.kernel.tick();
      await this.kernel.idle();
    }
  }

  async car(cp: CarCp): Promise<void> {
    this.board.setCar(cp);
    await this.kernel.idle();
  }

  async cmd(name: CommandName, args: Record<string, unknown> = {}): Promise<unknown> {
    const result = await this.kernel.command(name, args);
    await this.kernel.idle();
    return result;
  }

  async enforce(limits: EnforcedLimits): Promise<void> {
    await this.kernel.enforceLimits(limits);
    await this.kernel.idle();
  }

  async meterReading(totalWh: number, currentA?: number): Promise<void> {
    this.input({ kind: "powermeter", value: reading(totalWh, this.clock, currentA) });
    await this.kernel.idle();
  }

  sessionEvents(): SessionEvent[] {
    return this.publications.filter((p) => p.name === "session_event").map((p) => p.value as SessionEvent);
  }

  /** Event names, optionally only those after `from` (an index into sessionEvents()). */
  events(from = 0): string[] {
    return this.sessionEvents()
      .slice(from)
      .map((e) => e.event);
  }

  lastEvent(name: string): SessionEvent {
    const found = this.sessionEvents().filter((e) => e.event === name);
    if (found.length === 0) throw new Error(`no ${name} event; events: ${this.events().join(", ")}`);
    return found[found.length - 1]!;
  }

  published(name: VariableName): unknown[] {
    return this.publications.filter((p) => p.name === name).map((p) => p.value);
  }

  mark(): number {
    return this.sessionEvents().length;
  }

  /** Plug in, authorize with TOKEN_A and go to C: the six start events (scenarios.md START_AUTH). */
  async startCharging(opts: { free?: boolean } = {}): Promise<void> {
    await this.car("B");
    if (!opts.free) await this.cmd("authorize_response", AUTH_A);
    await this.car("C");
  }
}

export const START_EVENTS = ["SessionStarted", "AuthRequired", "Authorized", "TransactionStarted", "PrepareCharging", "ChargingStarted"];
export const END_EVENTS = ["StoppingCharging", "ChargingFinished", "TransactionFinished", "SessionFinished"];
