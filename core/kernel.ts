// The kernel of one EVSE: one FIFO [D13] through which board reports, commands, energy limits and
// ticks pass one at a time (behavior.md §1.2), the boot sequence (§16.3–16.4), the fault overlay's
// edge actions (§8), limits (§13), and the wiring of the CP layer, error handling and charger.
import * as v from "valibot";
import { Charger } from "./charger.ts";
import { defaultControlOptions, type ControlOptions, type EvseConfig } from "./config/index.ts";
import { EnableDisableTable } from "./enable-disable.ts";
import { effectiveCurrent, EnergyManagerLimit, phaseTarget, requestedCurrent } from "./energy-limits.ts";
import { CLEARED_ON_UNPLUG, CONTACTOR_FAULT, ErrorHandling, INOPERATIVE, SET_FAULTED_SUB_TYPE } from "./error-handling.ts";
import { IecStateMachine, type RawCp } from "./iec-state-machine.ts";
import {
  KernelNotStartedError,
  type ActiveError,
  type CommandName,
  type EvseKernel,
  type KernelDeps,
  type KernelStatus,
  type LocalControlRefusal,
  type LocalControlRequest,
  type VariableName,
} from "./kernel-api.ts";
import { LocalLimit } from "./local-limit.ts";
import type { BoardInput, BspEventEnum } from "./ports.ts";
import { Reservation } from "./reservation.ts";
import * as ev from "./session-events.ts";
import { Transaction } from "./transaction.ts";
import {
  ConnectorTypeEnumSchema,
  type EnableDisableSource,
  type EnforcedLimits,
  type HardwareCapabilities,
  type Powermeter,
  type ProvidedIdToken,
  type SessionEvent,
  type StopTransactionRequest,
  type ValidationResult,
} from "./types/index.ts";
import type { EnableSourceRow } from "./enable-disable.ts";

const ALWAYS_ALLOWED: ReadonlySet<CommandName> = new Set(["get_evse", "external_ready_to_start_charging"]);

export class Kernel implements EvseKernel {
  private readonly config: EvseConfig;
  private readonly iec: IecStateMachine;
  private readonly errorHandling: ErrorHandling;
  private readonly table = new EnableDisableTable();
  private readonly reservation = new Reservation();
  private readonly emLimit = new EnergyManagerLimit();
  private readonly transaction: Transaction;
  private readonly charger: Charger;
  private readonly control: ControlOptions;
  private readonly localLimit: LocalLimit;
  private siteShareA: number | null = null;

  private fifo: Promise<unknown> = Promise.resolve();
  private isStarted = false;
  /** After shutdown() nothing may switch the CP or relays again. */
  private isShutDown = false;
  private bootAt = 0;
  private bootRecordDone = false;
  private externalReadyUsed = false;
  private capabilities: HardwareCapabilities | null = null;
  private latestMeter: Powermeter | null = null;
  /** Latest raw CP report; before the start it is only remembered (§16.4). */
  private latestRaw: RawCp = "unknown";
  private firstCpPending = true;
  /** Uuid of a transaction finished at boot, candidate for SessionResumed (D7). */
  private interruptedUuid: string | null = null;
  private phasesOverride: number | null = null;
  private enableChange: { source: EnableSourceRow; connectorLevel: boolean } = {
    source: { enable_source: "Unspecified", enable_state: "Enable", enable_priority: 10000 },
    connectorLevel: false,
  };
  private lastLimits: string | null = null;
  private lastOvercurrentLimit: number | null = null;
  private selectedProtocol: string | null = null;

  constructor(private readonly deps: KernelDeps) {
    this.config = deps.config;
    this.bootAt = deps.clock.now(); // boot() sets it again; inputs may arrive before boot()
    this.control = deps.control ?? defaultControlOptions();
    this.localLimit = new LocalLimit(this.control, deps.clock.now());
    this.iec = new IecStateMachine(deps.board, deps.clock, {
      has_ventilation: deps.config.has_ventilation,
      lock_connector_in_state_b: deps.config.lock_connector_in_state_b,
    });
    this.errorHandling = new ErrorHandling(deps.clock, deps.newUuid, deps.config.fail_on_powermeter_errors);
    this.transaction = new Transaction({
      clock: deps.clock,
      config: deps.config,
      meter: deps.meter,
      store: deps.store,
      log: deps.log,
      latestMeter: () => this.latestMeter,
    });
    this.charger = new Charger({
      clock: deps.clock,
      config: deps.config,
      board: deps.board,
      transaction: this.transaction,
      iec: this.iec,
      errors: this.errorHandling,
      reservation: this.reservation,
      newUuid: deps.newUuid,
      log: deps.log,
      emit: (e) => this.emit(e),
      publish: (name, value) => deps.publish(name, value),
      setSelectedProtocol: (p) => this.setSelectedProtocol(p),
      ieff: () => this.ieff(),
      enabled: () => this.table.effective(),
      enableChange: () => this.enableChange,
      latestMeter: () => this.latestMeter,
      capabilities: () => this.capabilities,
      raiseError: (type, sub_type, message) => this.changeErrors(() => this.errorHandling.raise(type, sub_type, message, "High")),
    });
  }

  // ---- EvseKernel ------------------------------------------------------------------------

  boot(): void {
    this.bootAt = this.deps.clock.now();
    this.deps.publish("evse_id", this.config.evse_id);
    this.deps.publish("waiting_for_external_ready", this.config.external_ready_to_start_charging);
    this.setSelectedProtocol("Unknown");
  }

  boardInput(input: BoardInput): void {
    void this.enqueue(() => this.handleBoardInput(input)).catch((err) => this.logFailure("board input", err));
  }

  command(name: CommandName, args: Record<string, unknown>): Promise<unknown> {
    return this.enqueue(async () => {
      if ((!this.isStarted || this.isShutDown) && !ALWAYS_ALLOWED.has(name)) throw new KernelNotStartedError(name);
      const result = await this.runCommand(name, args);
      await this.afterInput();
      return result;
    });
  }

  enforceLimits(value: EnforcedLimits): Promise<void> {
    return this.enqueue(async () => {
      this.applyEnforcedLimits(value);
      await this.afterInput();
    });
  }

  tick(): Promise<void> {
    return this.enqueue(async () => {
      if (this.localLimit.expire(this.deps.clock.now())) {
        this.deps.log(
          `failsafe: local limit ${this.localLimit.standingA} A not refreshed by PUT …/control within ${this.control.failsafe_timeout_s} s; ` +
            `falling back to ${this.control.failsafe_current_A} A until the next PUT`,
        );
      }
      if (this.isStarted && !this.isShutDown) {
        if (this.iec.tick()) this.contactorWatchdogExpired();
        this.transaction.refreshIfDue();
      }
      await this.afterInput();
    });
  }

  async idle(): Promise<void> {
    for (;;) {
      const tail = this.fifo;
      await tail.catch(() => undefined);
      if (tail === this.fifo) return;
    }
  }

  started(): boolean {
    return this.isStarted;
  }

  errors(): ActiveError[] {
    return this.errorHandling.list();
  }

  shutdown(): Promise<void> {
    return this.enqueue(() => {
      this.isShutDown = true;
      this.iec.powerOff();
      this.iec.x1();
      this.transaction.refresh();
    });
  }

  status(): KernelStatus {
    const raw = this.latestRaw;
    const meter = this.latestMeter;
    return {
      state: this.charger.state,
      cp: raw === "unknown" ? null : raw,
      relays_closed: this.iec.relaysClosed,
      enabled: this.table.effective(),
      faulted: this.errorHandling.isFaulted(),
      offered_current_A: this.iec.advertisedA,
      max_current_A: this.ieff(),
      own_limit_A: this.ieff(false),
      hardware_max_current_A: this.capabilities?.max_current_A_import ?? null,
      phases: this.activePhases(),
      transaction_active: this.charger.transactionActive,
      session_uuid: this.charger.session?.uuid ?? null,
      id_tag: this.charger.idTag,
      meter,
      session_energy_Wh: this.charger.sessionEnergyWh(meter),
      local_limit_A: this.localLimit.standingA,
      failsafe: this.localLimit.failsafe,
      site_share_A: this.siteShareA,
    };
  }

  localControl(request: LocalControlRequest): Promise<LocalControlRefusal> {
    return this.enqueue(async () => {
      if ((request.enabled !== undefined || request.phases !== undefined) && (!this.isStarted || this.isShutDown)) {
        throw new KernelNotStartedError("control");
      }
      const refusal = request.phases !== undefined ? this.phaseSwitchRefusal(request.phases) : null;
      if (refusal !== null) return refusal;
      if (this.localLimit.refresh(this.deps.clock.now(), request.max_current_A)) {
        this.deps.log(`failsafe ended: PUT …/control received; local limit ${this.localLimit.standingA ?? "none"} A`);
      }
      if (request.enabled !== undefined) {
        const source = { enable_source: "LocalAPI", enable_state: request.enabled ? "Enable" : "Disable", enable_priority: this.control.enable_priority } as const;
        this.enableDisable(0, source);
      }
      if (request.phases !== undefined && request.phases !== this.activePhases()) this.switchPhases(request.phases);
      await this.afterInput();
      return null;
    });
  }

  setSiteShare(currentA: number | null): Promise<void> {
    // Set before queueing: a pass already queued must not offer more than the new share.
    this.siteShareA = currentA;
    return this.enqueue(() => this.afterInput());
  }

  // ---- The FIFO --------------------------------------------------------------------------

  private enqueue<T>(work: () => Promise<T> | T): Promise<T> {
    const result = this.fifo.then(work);
    this.fifo = result.catch(() => undefined);
    return result;
  }

  private logFailure(what: string, err: unknown): void {
    this.deps.log(`${what} failed: ${(err as Error)?.stack ?? String(err)}`);
  }

  /** Every input ends with the state machine's passes, the limits check and the boot progress. */
  private async afterInput(): Promise<void> {
    if (this.isShutDown) return;
    if (this.isStarted) await this.charger.run();
    this.publishLimitsIfChanged();
    if (!this.isStarted) await this.advanceBoot();
  }

  // ---- Boot (§16.3, §16.4) ---------------------------------------------------------------

  private async advanceBoot(): Promise<void> {
    if (this.isStarted) return;
    if (!this.bootRecordDone) {
      if (this.capabilities === null) return;
      const waitMs = this.config.initial_meter_value_timeout_ms;
      if (this.latestMeter === null && waitMs > 0 && this.deps.clock.now() - this.bootAt < waitMs) return;
      this.bootRecordDone = true;
      this.interruptedUuid = await this.transaction.finishInterrupted((e) => this.emit(e));
    }
    if (this.config.external_ready_to_start_charging && !this.externalReadyUsed) return;
    await this.startKernel();
  }

  private async startKernel(): Promise<void> {
    this.isStarted = true;
    this.deps.board.enable(true);
    this.charger.start();
    this.publishLimitsIfChanged();
    const source = this.table.activeSource();
    this.emit(ev.enableEvent(this.table.effective() ? "Enabled" : "Disabled", "", this.deps.clock.now(), source, false));
    this.deps.publish("ready", true);
    if (this.latestRaw !== "unknown") this.handleRaw(this.latestRaw);
    await this.charger.run();
  }

  // ---- Board inputs ----------------------------------------------------------------------

  private async handleBoardInput(input: BoardInput): Promise<void> {
    switch (input.kind) {
      case "event":
        this.handleBspEvent(input.event);
        break;
      case "capabilities":
        this.capabilities = input.value;
        this.deps.publish("hw_capabilities", input.value);
        break;
      case "telemetry":
        this.deps.publish("telemetry", input.value);
        break;
      case "powermeter":
        this.latestMeter = input.value;
        this.deps.publish("powermeter", input.value);
        break;
      case "public_key_ocmf":
        this.deps.publish("powermeter_public_key_ocmf", input.value);
        break;
      case "ac_nr_of_phases_available":
        this.phasesOverride = Math.min(3, Math.max(1, Math.round(input.value)));
        break;
      case "request_stop_transaction":
        if (this.isStarted) this.charger.stopTransaction(input.value);
        break;
      case "error_raised":
        this.changeErrors(() => this.errorHandling.raise(input.type, input.sub_type, input.message, input.severity));
        break;
      case "error_cleared":
        this.changeErrors(() => this.errorHandling.clear(input.type, input.sub_type));
        break;
    }
    await this.afterInput();
  }

  private handleBspEvent(event: BspEventEnum): void {
    switch (event) {
      case "PowerOn":
      case "PowerOff":
        this.iec.onRelayReport(event === "PowerOn");
        if (event === "PowerOff" && this.errorHandling.isActive(CONTACTOR_FAULT)) {
          this.changeErrors(() => this.errorHandling.clear(CONTACTOR_FAULT));
          this.iec.holdContactorF(false);
        }
        return;
      case "EvseReplugStarted":
      case "EvseReplugFinished":
        this.deps.log(`board reported ${event}; replug is not used by this product`);
        return;
      case "Disconnected":
        this.latestRaw = "unknown";
        if (this.isStarted) this.handleRaw("unknown");
        return;
      default:
        this.latestRaw = event;
        if (this.isStarted) this.handleRaw(event);
    }
  }

  private handleRaw(raw: RawCp): void {
    const events = this.iec.onRawState(raw);
    if (this.firstCpPending && raw !== "unknown") {
      this.firstCpPending = false;
      const connected = raw === "B" || raw === "C" || raw === "D";
      if (this.interruptedUuid !== null && connected && this.table.effective() && !this.errorHandling.isFaulted()) {
        this.charger.resumeUuid = this.interruptedUuid;
      }
      this.interruptedUuid = null;
    }
    for (const e of events) {
      if (e === "CarUnplugged") {
        // Our own errors are cleared by the unplug event only [Q26].
        this.changeErrors(() => CLEARED_ON_UNPLUG.map(([t, s]) => this.errorHandling.clear(t, s)).some(Boolean));
      }
      this.charger.onCpEvent(e);
    }
  }

  // ---- Errors and the fault overlay's edges (§8) -----------------------------------------

  /** Every error change passes through changeErrors, so each raise and clear is logged once, here. */
  private logErrorChanges(before: ActiveError[]): void {
    const after = this.errorHandling.list();
    const key = (e: ActiveError) => `${e.type}\u0000${e.sub_type}`;
    const was = new Set(before.map(key));
    const is = new Set(after.map(key));
    for (const e of after) if (!was.has(key(e))) this.deps.log(`error raised ${e.type}${e.sub_type ? `/${e.sub_type}` : ""} severity=${e.severity}: ${e.message}`);
    for (const e of before) if (!is.has(key(e))) this.deps.log(`error cleared ${e.type}${e.sub_type ? `/${e.sub_type}` : ""}`);
  }

  private changeErrors(change: () => boolean): void {
    const wasFaulted = this.errorHandling.isFaulted();
    const before = this.errorHandling.list();
    if (!change()) return;
    this.logErrorChanges(before);
    if (wasFaulted || !this.errorHandling.isFaulted()) return;
    // Becoming faulted: the state does not change and no session event is emitted [D1].
    if (this.reservation.active) {
      this.reservation.take();
      this.emit(ev.simpleEvent("ReservationEnd", "", this.deps.clock.now()));
    }
    if (this.iec.pwmRunning || this.iec.rPlusHeld || this.iec.relaysClosed) {
      this.iec.powerOff();
      this.iec.faultPulse(this.config.state_F_after_fault_ms); // [D2]
    }
  }

  /** D8: relays still closed 3 s after R−. */
  private contactorWatchdogExpired(): void {
    this.changeErrors(() =>
      this.errorHandling.raise(CONTACTOR_FAULT, "", "relays still reported closed 3 s after they were commanded open", "High"),
    );
    this.iec.holdContactorF(true);
  }

  // ---- Limits (§13) ----------------------------------------------------------------------

  private activePhases(): number {
    return this.phasesOverride ?? this.capabilities?.max_phase_count_import ?? 3;
  }

  private ieff(withSiteShare = true): number {
    return effectiveCurrent({
      configMaxA: this.config.max_current_import_A,
      capabilities: this.capabilities,
      cableA: this.charger.cableLimitA,
      emLimitA: this.emLimit.currentA(this.deps.clock.now()),
      localA: this.localLimit.currentA(),
      siteA: withSiteShare ? this.siteShareA : null,
    });
  }

  /** integration.md §2 `phases`: why a switch to `target` cannot be made, or null. */
  private phaseSwitchRefusal(target: 1 | 3): string | null {
    if (target === this.activePhases()) return null;
    const caps = this.capabilities;
    if (caps === null) return "the board has not reported its capabilities yet";
    if (target > caps.max_phase_count_import) return `the hardware has ${caps.max_phase_count_import} phase(s)`;
    if (this.charger.transactionActive && !caps.supports_changing_phases_during_charging) {
      return "the hardware cannot switch phases while charging";
    }
    return null;
  }

  /** §13.2 step 3: the active count becomes the target at once; the charger switches. */
  private switchPhases(target: number): void {
    this.phasesOverride = target;
    if (this.isStarted) this.charger.requestPhaseSwitch(target === 3);
  }

  private applyEnforcedLimits(value: EnforcedLimits): void {
    this.deps.publish("enforced_limits", value);
    const target = phaseTarget(value, this.capabilities);
    if (target !== null && target !== this.activePhases()) {
      if (this.capabilities?.supports_changing_phases_during_charging) {
        this.switchPhases(target);
      } else {
        this.deps.log(`phase switch to ${target} requested, but the hardware cannot change phases; ignored`);
      }
    }
    const now = this.deps.clock.now();
    const currentA = requestedCurrent(value, this.config.ac_nominal_voltage, this.activePhases());
    const validUntil = Date.parse(value.valid_until);
    if (!this.emLimit.accept(currentA, validUntil, now)) {
      this.deps.log(`enforce_limits ignored: valid_until ${value.valid_until} not in the future or ${currentA} A above 1000 A`);
    }
  }

  /** D6: `limits` only when its content changes; the board's over-current limit only on change. */
  private publishLimitsIfChanged(): void {
    if (!this.isStarted) return;
    const ieff = this.ieff();
    const limits = { uuid: this.deps.nodeId, max_current: ieff, nr_of_phases_available: this.activePhases() };
    const key = JSON.stringify(limits);
    if (key !== this.lastLimits) {
      this.lastLimits = key;
      this.deps.publish("limits", limits);
    }
    if (ieff !== this.lastOvercurrentLimit) {
      this.lastOvercurrentLimit = ieff;
      this.deps.board.ac_set_overcurrent_limit_A(ieff);
    }
  }

  // ---- Publications ----------------------------------------------------------------------

  private emit(event: SessionEvent): void {
    this.deps.publish("session_event", event);
  }

  private setSelectedProtocol(protocol: string): void {
    if (protocol === this.selectedProtocol) return; // [Q21]
    this.selectedProtocol = protocol;
    this.deps.publish("selected_protocol", protocol);
  }

  // ---- Commands (§10) --------------------------------------------------------------------

  private async runCommand(name: CommandName, args: Record<string, unknown>): Promise<unknown> {
    switch (name) {
      case "get_evse":
        return this.getEvse();
      case "enable_disable":
        return this.enableDisable(args.connector_id as number, args.cmd_source as EnableDisableSource);
      case "authorize_response":
        this.charger.authorizeResponse(args.provided_token as ProvidedIdToken, args.validation_result as ValidationResult);
        return null;
      case "withdraw_authorization":
        this.charger.withdrawAuthorization();
        return null;
      case "reserve":
        return this.reserve(args.reservation_id as number);
      case "cancel_reservation":
        if (this.reservation.active) {
          this.reservation.take();
          this.emit(ev.simpleEvent("ReservationEnd", "", this.deps.clock.now()));
        }
        return null;
      case "set_faulted":
        this.changeErrors(() => this.errorHandling.raise(INOPERATIVE, SET_FAULTED_SUB_TYPE, "set_faulted", "High"));
        return null;
      case "pause_charging":
        return this.charger.pauseCharging();
      case "resume_charging":
        return this.charger.resumeCharging();
      case "stop_transaction":
        return this.charger.stopTransaction(args.request as StopTransactionRequest);
      case "force_unlock": {
        const id = args.connector_id as number;
        if (id !== 0 && id !== 1) return false; // [Q23]
        this.iec.forceUnlock();
        return true;
      }
      case "set_get_certificate_response":
        return null; // no ISO 15118 stack [Q30]
      case "external_ready_to_start_charging":
        return this.externalReady();
    }
  }

  private getEvse(): unknown {
    const type = v.safeParse(ConnectorTypeEnumSchema, this.config.connector_type);
    return { id: this.config.connector_id, connectors: [type.success ? { id: 1, type: type.output } : { id: 1 }] };
  }

  // §11.2
  private enableDisable(connectorId: number, source: EnableDisableSource): boolean {
    if (connectorId !== 0 && connectorId !== 1) return this.table.effective(); // [Q23]
    const before = this.table.effective();
    const activeBefore = this.table.activeSource();
    this.table.apply(connectorId, source);
    if (source.enable_state === "Enable" && source.enable_priority <= activeBefore.enable_priority) {
      this.changeErrors(() => this.errorHandling.clear(INOPERATIVE, SET_FAULTED_SUB_TYPE)); // [D12]
    }
    const after = this.table.effective();
    if (after !== before) {
      // The charger emits Disabled/Enabled when it acts on the change (§11.4, §11.5).
      this.enableChange = { source: this.table.activeSource(), connectorLevel: connectorId !== 0 };
    }
    return after; // [Q12]
  }

  // §12
  private reserve(requested: number): boolean {
    const state = this.charger.state;
    if (!this.table.effective() || this.errorHandling.isFaulted() || this.charger.session !== null || state !== "Idle") {
      return false;
    }
    const outcome = this.reservation.reserve(requested);
    if (outcome === "accepted") this.emit(ev.simpleEvent("ReservationStart", "", this.deps.clock.now()));
    return outcome !== "refused";
  }

  // §16.4 [D10]
  private async externalReady(): Promise<boolean> {
    if (!this.config.external_ready_to_start_charging || this.externalReadyUsed) return false;
    this.externalReadyUsed = true;
    this.deps.publish("waiting_for_external_ready", false);
    await this.advanceBoot();
    return true;
  }
}
