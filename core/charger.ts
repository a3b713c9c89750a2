// The session state machine (behavior.md §3–§6, §8, §10): one EvseState, the session context, and
// per state one function holding that state's rows of §6, top to bottom. Entry actions live in
// `enter()` and run exactly once per real transition [D1]. `run()` repeats passes until the
// state is stable, so one input can chain transitions (StoppingCharging → Finished → Idle).
// What happens to the meter and the persistent record is transaction.ts; the PWM offer's timing
// pwm-policy.ts; soft over-current soft-over-current.ts; the cable limit pp-ampacity.ts.
import type { EnableSourceRow } from "./enable-disable.ts";
import { CONTACTOR_FAULT, OVER_CURRENT_FAILURE, POWERMETER_START_FAILED, type ErrorHandling } from "./error-handling.ts";
import type { CpEvent, IecStateMachine } from "./iec-state-machine.ts";
import type { VariableName } from "./kernel-api.ts";
import type { BoardPort, Clock } from "./ports.ts";
import { readCableLimitA } from "./pp-ampacity.ts";
import { powerAvailable } from "./pwm.ts";
import { PwmPolicy } from "./pwm-policy.ts";
import type { Reservation } from "./reservation.ts";
import * as ev from "./session-events.ts";
import { SoftOverCurrent } from "./soft-over-current.ts";
import type { Transaction } from "./transaction.ts";
import type { EvseConfig } from "./config/index.ts";
import type {
  HardwareCapabilities,
  Powermeter,
  ProvidedIdToken,
  SessionEvent,
  StopTransactionReason,
  StopTransactionRequest,
  ValidationResult,
} from "./types/index.ts";

export type EvseState =
  | "Disabled"
  | "Idle"
  | "WaitingForAuthentication"
  | "PrepareCharging"
  | "WaitingForEnergy"
  | "Charging"
  | "ChargingPausedEV"
  | "ChargingPausedEVSE"
  | "StoppingCharging"
  | "Finished"
  | "T_step_EF"
  | "T_step_X1"
  | "SwitchPhases"
  | "Replug";

/** What the charger needs from the kernel around it. */
export interface ChargerEnv {
  clock: Clock;
  config: EvseConfig;
  board: BoardPort;
  /** The meter and the persistent record of the session's transaction. */
  transaction: Transaction;
  iec: IecStateMachine;
  errors: ErrorHandling;
  reservation: Reservation;
  newUuid(): string;
  log(line: string): void;
  emit(event: SessionEvent): void;
  publish(name: VariableName, value: unknown): void;
  setSelectedProtocol(protocol: "Unknown" | "IEC61851-1"): void;
  ieff(): number;
  enabled(): boolean;
  /** Source and connector level of the enable_disable call behind the current effective state. */
  enableChange(): { source: EnableSourceRow; connectorLevel: boolean };
  latestMeter(): Powermeter | null;
  capabilities(): HardwareCapabilities | null;
  /** Raises one of our own errors through the kernel's fault overlay (§8). */
  raiseError(type: string, sub_type: string, message: string): void;
}

interface Session {
  uuid: string;
  started_by: "EVConnected" | "Authorized";
  reservation_id?: number;
}

const FREE_TOKEN: ProvidedIdToken = {
  id_token: { value: "FREESERVICE", type: "Local" },
  authorization_type: "RFID",
  prevalidated: true,
};

const LEGACY_WAKEUP_MS = 30000;
const PAUSED_BY_EV_AFTER_WAKEUP_MS = 10000;
const T_STEP_EF_F_MS = 4000;
const T_STEP_EF_X1_MS = 750;
const STOP_RELAY_WAIT_MS = 3000;
const MAX_PASSES = 32;

export class Charger {
  state: EvseState = "Idle";
  private enteredAt = 0;
  private transitions = 0;

  // Session context (§3.2)
  session: Session | null = null;
  private authorized = false;
  private token: ProvidedIdToken | null = null;
  private pnc = false;
  transactionActive = false;
  private energySeen = false;
  private evRequestsPower = false;
  private userPaused = false;
  private cableA = 0;
  private legacyWakeupDone = false;
  private stopCause: { reason: StopTransactionReason; id_tag?: ProvidedIdToken } | null = null;
  private validationReservationId: number | undefined;
  private consumedReservationId: number | undefined;

  /** Inputs latched until a state that handles them evaluates its rows (T_step_EF and
   *  SwitchPhases evaluate nothing else, so unplug and commands take effect on return). */
  private unplugged = false;
  private stopRequest: StopTransactionRequest | null = null;
  private startFailed = false;

  private wakeupSince = 0;
  private stepEF: { returnState: EvseState; currentA: number; x1Done: boolean } | null = null;
  private phaseSwitch: { threePhases: boolean; returnState: EvseState } | null = null;
  private readonly pwm: PwmPolicy;
  private readonly overCurrent: SoftOverCurrent;
  /** D7: uuid of an interrupted session to announce with SessionResumed at the next plug-in. */
  resumeUuid: string | null = null;

  constructor(private readonly env: ChargerEnv) {
    this.pwm = new PwmPolicy(env.iec, env.clock, env.config.hack_simplified_mode_limit_10A, (e) => this.onCpEvent(e));
    this.overCurrent = new SoftOverCurrent(env.config);
  }

  private get now(): number {
    return this.env.clock.now();
  }

  private get iec(): IecStateMachine {
    return this.env.iec;
  }

  private get faulted(): boolean {
    return this.env.errors.isFaulted();
  }

  /** Kernel start: Idle's entry actions, without events. */
  start(): void {
    this.enter("Idle");
  }

  // ---- Inputs ----------------------------------------------------------------------------

  onCpEvent(e: CpEvent): void {
    switch (e) {
      case "CarRequestedPower":
        this.evRequestsPower = true; // in every state [D11]
        break;
      case "CarRequestedStopPower":
        this.evRequestsPower = false;
        if (this.state === "Charging") this.enter("ChargingPausedEV");
        break;
      case "BCDtoE":
        this.evRequestsPower = false;
        this.unplugged = true; // E ends the session like an unplug [Q14]
        break;
      case "CarUnplugged":
        this.unplugged = true;
        break;
      case "EFtoBCD":
      case "BCDtoEF":
        break;
    }
  }

  authorizeResponse(token: ProvidedIdToken, result: ValidationResult): void {
    if (result.authorization_status !== "Accepted") return;
    if (this.state === "Idle" && this.session === null) {
      this.startSession("Authorized", token, result.reservation_id);
      this.authorize(token);
      return;
    }
    if (this.state === "WaitingForAuthentication" && !this.authorized) {
      if (result.reservation_id !== undefined) this.validationReservationId = result.reservation_id;
      this.authorize(token);
    }
    // Everything else (already authorized, transaction, StoppingCharging, Finished, Disabled) is
    // ignored without an event [Q16][Q24].
  }

  withdrawAuthorization(): void {
    if (this.authorized && !this.pnc && this.env.reservation.active) this.endReservation();
    if (this.state === "Idle" && this.session?.started_by === "Authorized") {
      this.emit(ev.authorizationEvent("Deauthorized", this.session.uuid, this.now, this.meterValue()));
      this.endSession();
      return;
    }
    if (this.state !== "WaitingForAuthentication" || this.session === null || this.transactionActive) return; // [D9]
    if (!this.authorized) {
      this.emit(ev.simpleEvent("PluginTimeout", this.session.uuid, this.now));
      return;
    }
    this.emit(ev.authorizationEvent("Deauthorized", this.session.uuid, this.now, this.meterValue()));
    this.authorized = false; // the session keeps waiting [Q32]
    this.token = null;
    this.pnc = false;
  }

  private get stopping(): boolean {
    return this.state === "StoppingCharging" || this.stopRequest !== null;
  }

  pauseCharging(): boolean {
    if (!this.transactionActive || this.stopping) return false;
    this.userPaused = true; // [Q7]: also true when already paused
    return true;
  }

  resumeCharging(): boolean {
    if (!this.transactionActive || this.stopping) return false;
    if (!this.userPaused && this.state !== "ChargingPausedEVSE") return false;
    this.userPaused = false;
    return true;
  }

  stopTransaction(request: StopTransactionRequest): boolean {
    if (!this.transactionActive || this.stopping) return false;
    this.stopRequest = request;
    return true;
  }

  /** enforce_limits asked for another phase count (§13.2 step 3); hardware support is checked by the caller. */
  requestPhaseSwitch(threePhases: boolean): void {
    if (this.state === "SwitchPhases" && this.phaseSwitch) {
      this.phaseSwitch.threePhases = threePhases;
    } else if (this.state === "Charging" || this.state === "WaitingForEnergy") {
      const returnState = this.state === "Charging" ? "PrepareCharging" : "WaitingForEnergy";
      this.phaseSwitch = { threePhases, returnState };
      this.enter("SwitchPhases");
    } else {
      this.env.board.ac_switch_three_phases_while_charging(threePhases);
    }
  }

  /** The token value of the session (integration.md §1 `id_tag`). */
  get idTag(): string | null {
    return this.session !== null && this.token !== null ? this.token.id_token.value : null;
  }

  /** Imported energy of the running transaction, or of the last one until the next session. */
  sessionEnergyWh(latest: Powermeter | null): number {
    const start = this.env.transaction.startEnergyWh;
    const now = latest?.energy_Wh_import.total;
    if (start !== undefined && now !== undefined) this.lastTransactionWh = Math.max(0, now - start);
    return this.lastTransactionWh;
  }
  private lastTransactionWh = 0;

  /** Effective PP ampacity while the session holds one (0 = unknown / not a socket). */
  get cableLimitA(): number {
    return this.cableA;
  }

  // ---- The passes ------------------------------------------------------------------------

  async run(): Promise<void> {
    for (let i = 0; i < MAX_PASSES; i++) {
      const before = this.transitions;
      await this.pass();
      if (this.transitions === before) return;
    }
    this.env.log(`charger: state still changing after ${MAX_PASSES} passes (now ${this.state})`);
  }

  private async pass(): Promise<void> {
    switch (this.state) {
      case "Disabled":
        return this.disabledRows();
      case "Idle":
        return this.idleRows();
      case "WaitingForAuthentication":
        return this.waitingForAuthenticationRows();
      case "PrepareCharging":
        return this.prepareChargingRows();
      case "WaitingForEnergy":
        return this.waitingForEnergyRows();
      case "Charging":
        return this.chargingRows();
      case "ChargingPausedEV":
        return this.chargingPausedEVRows();
      case "ChargingPausedEVSE":
        return this.chargingPausedEVSERows();
      case "StoppingCharging":
        return this.stoppingChargingRows();
      case "Finished":
        return this.finishedRows();
      case "T_step_EF":
        return this.tStepEFRows();
      case "SwitchPhases":
        return this.switchPhasesRows();
      case "T_step_X1":
      case "Replug":
        return; // HLC / replug-capable boards only: never entered here
    }
  }

  // §6.1
  private disabledRows(): void {
    this.unplugged = false; // Q13: an unplug seen while Disabled changes nothing
    if (this.env.enabled()) {
      const { source, connectorLevel } = this.env.enableChange();
      this.emit(ev.enableEvent("Enabled", "", this.now, source, connectorLevel));
      this.enter("Idle");
    }
  }

  // §6.2 (the plug-in rule is level-triggered [Q15])
  private idleRows(): void {
    this.unplugged = false;
    if (!this.env.enabled()) return this.enter("Disabled");
    const raw = this.iec.raw;
    if (raw === "B" || raw === "C" || raw === "D") {
      if (this.resumeUuid !== null) {
        this.emit(ev.simpleEvent("SessionResumed", this.resumeUuid, this.now));
        this.resumeUuid = null;
      }
      this.enter("WaitingForAuthentication");
    }
  }

  // §6.3
  private async waitingForAuthenticationRows(): Promise<void> {
    if (this.unplugged) {
      this.endSession(); // no StoppingCharging without a transaction [Q2]
      return this.enter("Idle");
    }
    if (!this.env.enabled()) return this.enter("Disabled");
    if (this.env.capabilities()?.connector_type === "IEC62196Type2Socket" && this.cableA === 0) {
      const phases = this.env.capabilities()?.max_phase_count_import;
      this.cableA = readCableLimitA(this.env.board, phases, (line) => this.env.log(line));
      if (this.cableA === 0) return; // wait here
    }
    if (this.authorized && !this.transactionActive && !this.startFailed) await this.startTransaction();
    if (this.transactionActive) this.enter("PrepareCharging");
  }

  /** Unplug, stop request and disable end a transaction the same way in every charging state. */
  private stopRows(): boolean {
    if (this.unplugged) this.beginStop("EVDisconnected");
    else if (this.stopRequest) this.beginStop(this.stopRequest.reason, this.stopRequest.id_tag);
    else if (!this.env.enabled()) this.beginStop("Local"); // [D4]
    else return false;
    return true;
  }

  // §6.4
  private prepareChargingRows(): void {
    if (this.stopRows()) return;
    if (this.faulted) {
      this.iec.x1();
      this.iec.powerOff();
      this.wakeupSince = this.now;
      return;
    }
    if (this.userPaused) return this.enter("ChargingPausedEVSE");
    const ieff = this.env.ieff();
    if (!powerAvailable(ieff)) return this.enter("WaitingForEnergy");
    this.pwm.offerIfChanged(ieff);
    if (this.evRequestsPower) {
      this.emitChargingState("ChargingStarted");
      return this.enter("Charging");
    }
    const inState = this.now - this.wakeupSince;
    if (!this.legacyWakeupDone && inState > LEGACY_WAKEUP_MS) {
      this.legacyWakeupDone = true;
      this.stepEF = { returnState: "PrepareCharging", currentA: ieff, x1Done: false };
      return this.enter("T_step_EF");
    }
    if (this.legacyWakeupDone && inState > PAUSED_BY_EV_AFTER_WAKEUP_MS) this.enter("ChargingPausedEV");
  }

  // §6.5
  private waitingForEnergyRows(): void {
    if (this.stopRows()) return;
    if (this.faulted) return;
    if (this.userPaused) return this.enter("ChargingPausedEVSE");
    if (powerAvailable(this.env.ieff())) this.enter("PrepareCharging"); // [Q5]
  }

  // §6.6
  private chargingRows(): void {
    if (this.stopRows()) return;
    if (this.faulted) {
      this.iec.powerOff();
      this.iec.x1();
      return;
    }
    if (this.userPaused) return this.enter("ChargingPausedEVSE");
    const ieff = this.env.ieff();
    if (!powerAvailable(ieff)) return this.enter("WaitingForEnergy");
    this.checkSoftOverCurrent();
    if (this.faulted) return;
    this.pwm.offerRateLimited(ieff);
    this.iec.allowPowerOn(); // re-issued after a fault clears (no event) [D1]
  }

  // §6.7
  private chargingPausedEVRows(): void {
    if (this.stopRows()) return;
    if (this.faulted) {
      this.iec.x1(); // the EV's requests are only remembered [D3]
      return;
    }
    if (this.userPaused) return this.enter("ChargingPausedEVSE");
    const ieff = this.env.ieff();
    if (!powerAvailable(ieff)) return this.enter("WaitingForEnergy");
    this.checkSoftOverCurrent();
    if (this.faulted) return;
    this.pwm.offerRateLimited(ieff);
    if (this.evRequestsPower && this.iec.pwmRunning) this.enter("Charging");
  }

  // §6.8
  private chargingPausedEVSERows(): void {
    if (this.stopRows()) return;
    if (this.userPaused) return;
    this.enter(powerAvailable(this.env.ieff()) ? "PrepareCharging" : "WaitingForEnergy"); // [Q6]
  }

  // §5.4 steps 2–4
  private async stoppingChargingRows(): Promise<void> {
    const waited = this.now - this.enteredAt;
    if (this.iec.relaysClosed && waited < STOP_RELAY_WAIT_MS && !this.env.errors.isActive(CONTACTOR_FAULT)) return;
    await this.finishTransaction();
    if (!this.env.enabled()) return this.enter("Disabled");
    const raw = this.iec.raw;
    if (this.unplugged || !(raw === "B" || raw === "C" || raw === "D")) {
      this.endSession();
      return this.enter("Idle");
    }
    this.enter("Finished");
  }

  // §6.10
  private finishedRows(): void {
    if (this.unplugged) {
      this.endSession();
      return this.enter("Idle");
    }
    if (!this.env.enabled()) this.enter("Disabled");
  }

  // §6.11
  private tStepEFRows(): void {
    const step = this.stepEF;
    const inState = this.now - this.enteredAt;
    if (step === null) return this.enter("PrepareCharging");
    if (!step.x1Done && inState >= T_STEP_EF_F_MS) {
      step.x1Done = true;
      this.iec.x1();
    }
    if (inState < T_STEP_EF_F_MS + T_STEP_EF_X1_MS) return;
    this.stepEF = null;
    // A limit lowered during the step (site share, local control) applies to the return PWM too.
    if (this.faulted) this.iec.x1();
    else this.pwm.offer(Math.min(step.currentA, this.env.ieff()));
    this.enter(step.returnState);
  }

  private switchPhasesRows(): void {
    const sw = this.phaseSwitch;
    if (sw === null) return this.enter("PrepareCharging");
    if (this.now - this.enteredAt < this.env.config.switch_3ph1ph_delay_s * 1000) return;
    this.env.board.ac_switch_three_phases_while_charging(sw.threePhases);
    this.phaseSwitch = null;
    this.enter(sw.returnState);
  }

  // ---- Entry actions (once per real transition, D1) ---------------------------------------

  private enter(next: EvseState): void {
    const from = this.state;
    this.state = next;
    this.enteredAt = this.now;
    // The one place EvseState changes, so the one place it is logged (http-api.md: a line per state change).
    this.env.log(`state ${from} -> ${next}`);
    this.transitions++;
    if (next !== "Charging" && next !== "ChargingPausedEV") this.overCurrent.reset();
    const iec = this.iec;
    switch (next) {
      case "Disabled": {
        const { source, connectorLevel } = this.env.enableChange();
        this.emit(ev.enableEvent("Disabled", this.session?.uuid ?? "", this.now, source, connectorLevel));
        iec.cpF();
        iec.powerOff();
        if (this.env.reservation.active) this.endReservation();
        if (this.session) this.endSession(); // [Q25]
        break;
      }
      case "Idle":
        iec.x1();
        iec.powerOff();
        this.cableA = 0;
        this.evRequestsPower = false;
        this.legacyWakeupDone = false;
        this.unplugged = false;
        break;
      case "WaitingForAuthentication":
        iec.powerOff();
        if (this.session === null) this.startSession("EVConnected");
        this.emit(ev.simpleEvent("AuthRequired", this.sessionUuid, this.now));
        if (this.env.config.disable_authentication && this.session?.started_by === "EVConnected") {
          this.authorize(FREE_TOKEN);
        }
        break;
      case "PrepareCharging":
        this.emit(ev.simpleEvent("PrepareCharging", this.sessionUuid, this.now));
        this.wakeupSince = this.now;
        break;
      case "WaitingForEnergy":
        this.emit(ev.simpleEvent("WaitingForEnergy", this.sessionUuid, this.now));
        iec.x1();
        break;
      case "Charging":
        if (from === "ChargingPausedEV") this.emitChargingState(this.energySeen ? "ChargingResumed" : "ChargingStarted"); // [Q22]
        this.energySeen = true;
        this.legacyWakeupDone = false;
        iec.allowPowerOn();
        this.pwm.offerIfChanged(this.env.ieff());
        break;
      case "ChargingPausedEV":
        this.emitChargingState("ChargingPausedEV");
        break;
      case "ChargingPausedEVSE":
        this.emitChargingState("ChargingPausedEVSE");
        iec.x1();
        break;
      case "StoppingCharging":
        this.emit(ev.simpleEvent("StoppingCharging", this.sessionUuid, this.now));
        iec.x1(); // the CP layer keeps F over it during a fault pulse or contactor fault
        iec.powerOff();
        break;
      case "Finished":
        iec.x1();
        iec.powerOff();
        break;
      case "T_step_EF":
        iec.cpF();
        break;
      case "SwitchPhases":
        this.emit(ev.simpleEvent("SwitchingPhases", this.sessionUuid, this.now));
        if (this.env.config.switch_3ph1ph_cp_state === "F") iec.cpF();
        else iec.x1();
        iec.powerOff(); // never switch phases under load
        break;
      case "T_step_X1":
      case "Replug":
        break;
    }
  }

  // ---- Primitive actions (§4) ------------------------------------------------------------

  private get sessionUuid(): string {
    return this.session?.uuid ?? "";
  }

  private meterValue(): Powermeter {
    return ev.meterValueOrZero(this.env.latestMeter(), this.now);
  }

  private emit(event: SessionEvent): void {
    this.env.emit(event);
    this.env.transaction.refresh();
  }

  private emitChargingState(e: "ChargingStarted" | "ChargingResumed" | "ChargingPausedEV" | "ChargingPausedEVSE"): void {
    this.emit(ev.chargingStateEvent(e, this.sessionUuid, this.now, this.meterValue()));
  }

  private endReservation(): void {
    this.env.reservation.take();
    this.emit(ev.simpleEvent("ReservationEnd", "", this.now));
  }

  private startSession(reason: "EVConnected" | "Authorized", token?: ProvidedIdToken, validationReservationId?: number): void {
    const session: Session = { uuid: this.env.newUuid(), started_by: reason };
    this.lastTransactionWh = 0;
    const reservation = this.env.reservation;
    if (reservation.active) {
      const id = reservation.reservationId!;
      if (reason === "Authorized") {
        // Consumed by an authorization: ReservationEnd comes right before SessionStarted [Q17].
        this.endReservation();
        this.consumedReservationId = id;
      }
      if (id >= 0) session.reservation_id = id;
    }
    if (session.reservation_id === undefined && validationReservationId !== undefined && validationReservationId >= 0) {
      session.reservation_id = validationReservationId;
    }
    if (validationReservationId !== undefined) this.validationReservationId = validationReservationId;
    this.session = session;
    this.startFailed = false;
    this.emit(
      ev.sessionStarted(session.uuid, this.now, {
        reason,
        meter_value: this.meterValue(),
        ...(token !== undefined ? { id_tag: token } : {}),
        ...(session.reservation_id !== undefined ? { reservation_id: session.reservation_id } : {}),
      }),
    );
    this.env.publish("ev_info", {});
    this.env.setSelectedProtocol("IEC61851-1");
  }

  private endSession(): void {
    if (this.session === null) return;
    this.emit(ev.sessionFinished(this.session.uuid, this.now, this.meterValue()));
    this.session = null;
    this.authorized = false;
    this.token = null;
    this.pnc = false;
    this.userPaused = false;
    this.evRequestsPower = false;
    this.startFailed = false;
    this.stopRequest = null;
    this.validationReservationId = undefined;
    this.consumedReservationId = undefined;
    this.env.publish("ev_info", {});
    this.env.setSelectedProtocol("Unknown");
  }

  private authorize(token: ProvidedIdToken): void {
    this.token = token;
    this.pnc = token.authorization_type === "PlugAndCharge";
    this.authorized = true;
    this.emit(ev.authorizationEvent("Authorized", this.sessionUuid, this.now, this.meterValue()));
  }

  // §5.3 [Q9]
  private async startTransaction(): Promise<void> {
    const session = this.session!;
    const token = this.token!;
    const transaction = this.env.transaction;
    if (!(await transaction.startMeter(session.uuid, token))) {
      this.startFailed = true; // no retry in this session
      this.env.raiseError(POWERMETER_START_FAILED, "", "powermeter start_transaction returned UNEXPECTED_ERROR");
      return;
    }
    const meterValue = this.meterValue();
    transaction.open(session.uuid, token, meterValue);
    if (this.env.reservation.active) {
      this.consumedReservationId = this.env.reservation.reservationId!;
      this.endReservation();
    }
    const reservationId = [session.reservation_id, this.consumedReservationId, this.validationReservationId].find(
      (id) => id !== undefined && id >= 0,
    );
    if (reservationId !== undefined) transaction.setReservationId(reservationId);
    this.emit(
      ev.transactionStarted(session.uuid, this.now, {
        id_tag: token,
        meter_value: meterValue,
        ...(reservationId !== undefined ? { reservation_id: reservationId } : {}),
      }),
    );
    this.transactionActive = true;
    this.energySeen = false;
  }

  // §5.4 step 1
  private beginStop(reason: StopTransactionReason, id_tag?: ProvidedIdToken): void {
    this.stopCause = id_tag !== undefined ? { reason, id_tag } : { reason };
    this.stopRequest = null;
    this.enter("StoppingCharging");
  }

  // §5.4 step 3
  private async finishTransaction(): Promise<void> {
    const session = this.session!;
    const cause = this.stopCause ?? { reason: "Other" as const };
    // The session's energy is taken while the transaction still knows its start reading.
    this.sessionEnergyWh(this.env.latestMeter());
    const signed = await this.env.transaction.stop(session.uuid);
    this.transactionActive = false;
    this.userPaused = false;
    this.stopCause = null;
    this.emit(ev.simpleEvent("ChargingFinished", session.uuid, this.now));
    this.emit(
      ev.transactionFinished(session.uuid, this.now, {
        meter_value: this.meterValue(),
        reason: cause.reason,
        ...(cause.id_tag !== undefined ? { id_tag: cause.id_tag } : {}),
        ...signed,
      }),
    );
    this.env.setSelectedProtocol("Unknown");
  }

  // §14.5
  private checkSoftOverCurrent(): void {
    const message = this.overCurrent.check(this.env.latestMeter()?.current_A, this.iec.advertisedA, this.now);
    if (message !== null) this.env.raiseError(OVER_CURRENT_FAILURE, "", message);
  }
}
