// The control-pilot layer (behavior.md §7): raw CP states from the board become CP events, the
// CP output (X1 / PWM / F) has one owner, relay permission is gated on C2, and the connector lock
// follows the CP. Reference: IECStateMachine.cpp, but timers are checked on the kernel's tick
// (they fire at nominal time ± one tick, Q33) instead of a 500 ms poll.
import type { BoardPort, Clock } from "./ports.ts";

export type RawCp = "A" | "B" | "C" | "D" | "E" | "F" | "unknown";

export type CpEvent =
  | "CarUnplugged"
  | "CarRequestedPower"
  | "CarRequestedStopPower"
  | "EFtoBCD"
  | "BCDtoEF"
  | "BCDtoE";

type CpOutput = { kind: "X1" } | { kind: "F" } | { kind: "PWM"; duty: number; currentA: number };

export interface IecOptions {
  has_ventilation: boolean;
  lock_connector_in_state_b: boolean;
}

const C1_TIMEOUT_MS = 6000;
const F_UNLOCK_MS = 5000;
const CONTACTOR_WATCHDOG_MS = 3000;

const X1: CpOutput = { kind: "X1" };
const F: CpOutput = { kind: "F" };

function sameOutput(a: CpOutput | null, b: CpOutput): boolean {
  if (a === null || a.kind !== b.kind) return false;
  return a.kind !== "PWM" || a.duty === (b as { duty: number }).duty;
}

export class IecStateMachine {
  raw: RawCp = "unknown";
  carPresent = false;
  simplifiedMode = false;
  /** As last reported by the board (PowerOn / PowerOff); open before any report. */
  relaysClosed = false;
  /** The kernel's stored R+ (behavior.md §7.3). */
  rPlusHeld = false;
  /** Time of the last PWM duty change (switch-on included), for the 5 s rule. */
  lastPwmChangeAt = Number.NEGATIVE_INFINITY;

  private allowSent: boolean | null = null;
  /** What the kernel asked for; the board may be held at F over it (fault pulse, contactor fault). */
  private requested: CpOutput = X1;
  private actual: CpOutput | null = null;
  private pulseUntil: number | null = null;
  private contactorHold = false;
  private c1Since: number | null = null;
  private fSince: number | null = null;
  private watchdogSince: number | null = null;
  private lockWanted = false;
  private forceUnlocked = false;
  private lockSent = false;
  private synthesized: CpEvent[] = [];

  constructor(
    private readonly board: BoardPort,
    private readonly clock: Clock,
    private readonly opts: IecOptions,
  ) {}

  // ---- CP output -------------------------------------------------------------------------

  get pwmRunning(): boolean {
    return this.actual?.kind === "PWM";
  }

  /** Duty in percent currently on the CP, null without PWM. */
  get dutyPercent(): number | null {
    return this.actual?.kind === "PWM" ? this.actual.duty : null;
  }

  /** Current of the PWM actually set; 0 after X1 or F (used by the soft over-current check). */
  get advertisedA(): number {
    return this.actual?.kind === "PWM" ? this.actual.currentA : 0;
  }

  /** The CP is held at F by a fault pulse or a contactor fault. */
  get holdingF(): boolean {
    return this.contactorHold || this.pulseUntil !== null;
  }

  get locked(): boolean {
    return this.lockSent;
  }

  x1(): void {
    this.requested = X1;
    this.applyOutput();
  }

  cpF(): void {
    this.requested = F;
    this.applyOutput();
  }

  pwm(dutyPercent: number, currentA: number): void {
    this.requested = { kind: "PWM", duty: dutyPercent, currentA };
    this.applyOutput();
  }

  /** D2: F now and X1 after `ms`; with 0, X1 at once. */
  faultPulse(ms: number): void {
    this.requested = X1;
    this.pulseUntil = ms > 0 ? this.clock.now() + ms : null;
    this.applyOutput();
  }

  /** D8: F while a contactor fault is active. */
  holdContactorF(hold: boolean): void {
    this.contactorHold = hold;
    this.applyOutput();
  }

  /** CarRequestedPower synthesized by a PWM switch-on in simplified mode (§7.2). */
  takeSynthesized(): CpEvent[] {
    const out = this.synthesized;
    this.synthesized = [];
    return out;
  }

  private applyOutput(): void {
    const target = this.holdingF ? F : this.requested;
    if (sameOutput(this.actual, target)) return;
    const wasPwm = this.pwmRunning;
    if (target.kind === "X1") this.board.pwm_off();
    else if (target.kind === "F") this.board.pwm_F();
    else this.board.pwm_on(target.duty);
    this.actual = target;
    if (target.kind === "PWM") this.lastPwmChangeAt = this.clock.now();
    this.onPwmFlag(wasPwm, this.pwmRunning);
  }

  private get inCLike(): boolean {
    return this.raw === "C" || (this.raw === "D" && this.opts.has_ventilation);
  }

  private onPwmFlag(was: boolean, now: boolean): void {
    if (was === now || !this.inCLike) return;
    if (was && !now) {
      this.c1Since = this.clock.now();
      return;
    }
    this.c1Since = null;
    if (this.rPlusHeld) this.sendAllow(true);
    if (this.simplifiedMode) this.synthesized.push("CarRequestedPower");
  }

  // ---- Relays ----------------------------------------------------------------------------

  /** R+: stored, forwarded only in C (or D with ventilation) with PWM running. */
  allowPowerOn(): void {
    if (this.rPlusHeld) return;
    this.rPlusHeld = true;
    if (this.inCLike && this.pwmRunning) this.sendAllow(true);
  }

  /** R−: to the board at once; starts the contactor watchdog if the board says closed (D8). */
  powerOff(): void {
    this.rPlusHeld = false;
    if (this.allowSent !== false) this.sendAllow(false);
    if (this.relaysClosed && this.watchdogSince === null) this.watchdogSince = this.clock.now();
  }

  private sendAllow(allow: boolean): void {
    this.allowSent = allow;
    this.board.allow_power_on(
      allow ? { allow_power_on: true, reason: "FullPowerCharging" } : { allow_power_on: false, reason: "PowerOff" },
    );
  }

  onRelayReport(closed: boolean): void {
    this.relaysClosed = closed;
    if (!closed) this.watchdogSince = null;
    this.updateLock();
  }

  // ---- Raw CP → CP events (§7.1) ---------------------------------------------------------

  onRawState(next: RawCp): CpEvent[] {
    const prev = this.raw;
    const changed = prev !== next;
    const wasPresent = this.carPresent;
    const wasConnected = prev === "B" || prev === "C" || prev === "D";
    const fromEF = prev === "E" || prev === "F";
    const events: CpEvent[] = [];
    this.raw = next;
    if (next !== "F") this.fSince = null;

    switch (next) {
      case "A":
      case "unknown":
        if (!changed) break;
        this.requested = X1;
        this.applyOutput();
        this.simplifiedMode = false;
        this.carPresent = false;
        this.autoOff();
        this.clearLockWanted();
        if (next === "A" && prev !== "unknown") events.push("CarUnplugged");
        break;
      case "B":
        if (this.opts.lock_connector_in_state_b) this.lockWanted = true;
        else this.clearLockWanted();
        this.carPresent = true;
        if (changed && prev !== "A") {
          events.push("CarRequestedStopPower");
          this.autoOff();
        }
        if (changed && fromEF) events.push("EFtoBCD");
        break;
      case "C":
      case "D":
        this.lockWanted = true;
        this.carPresent = true;
        if (next === "D" && !this.opts.has_ventilation) {
          this.autoOff();
          break;
        }
        if (!wasPresent) this.simplifiedMode = true;
        if (changed && fromEF) events.push("EFtoBCD");
        if (changed && (prev === "B" || (fromEF && wasPresent))) events.push("CarRequestedPower");
        // R+ given while the board still showed our F pulse (a fault cleared during it) is held
        // until the car is seen in C again: close then, as after B.
        if (changed && (prev === "B" || fromEF) && this.rPlusHeld && this.pwmRunning) this.sendAllow(true);
        break;
      case "E":
        this.clearLockWanted();
        if (!changed) break;
        this.autoOff();
        this.requested = X1;
        this.applyOutput();
        if (wasConnected) events.push("BCDtoEF", "BCDtoE");
        break;
      case "F":
        this.autoOff();
        if (!changed) break;
        this.fSince = this.clock.now();
        if (wasConnected) events.push("BCDtoEF");
        break;
    }
    this.updateLock();
    return events;
  }

  /** Every automatic switch-off also clears the stored R+ (§7.3) and the C1 timer. */
  private autoOff(): void {
    this.c1Since = null;
    this.powerOff();
  }

  // ---- Lock (§7.6) -----------------------------------------------------------------------

  private clearLockWanted(): void {
    this.lockWanted = false;
    this.forceUnlocked = false;
  }

  private updateLock(): void {
    const demand = this.relaysClosed || (this.lockWanted && !this.forceUnlocked);
    if (demand === this.lockSent) return;
    this.lockSent = demand;
    if (demand) this.board.lock();
    else this.board.unlock();
  }

  forceUnlock(): void {
    if (!this.relaysClosed) {
      this.board.unlock();
      this.lockSent = false;
    }
    if (this.raw === "B" || this.raw === "C") this.forceUnlocked = true;
    this.updateLock();
  }

  // ---- Timers ----------------------------------------------------------------------------

  /** Runs the CP layer's timers; returns true when the contactor watchdog expired (D8). */
  tick(): boolean {
    const now = this.clock.now();
    if (this.pulseUntil !== null && now >= this.pulseUntil) {
      this.pulseUntil = null;
      this.applyOutput();
    }
    if (this.c1Since !== null && now - this.c1Since >= C1_TIMEOUT_MS) {
      this.c1Since = null; // "power off under load"
      this.powerOff();
    }
    if (this.raw === "F" && this.fSince !== null && now - this.fSince >= F_UNLOCK_MS) {
      this.fSince = null;
      this.clearLockWanted();
      this.updateLock();
    }
    if (this.watchdogSince !== null && now - this.watchdogSince >= CONTACTOR_WATCHDOG_MS) {
      this.watchdogSince = null;
      return true;
    }
    return false;
  }
}
