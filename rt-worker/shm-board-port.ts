// The kernel's BoardPort written into shared memory: every command updates the requested
// outputs and rings the worker's doorbell. The host (rt-worker/host.ts) serves it to the kernel;
// the soak (bench/sim-stack.ts) uses the same class with the worker's pass run in-line.
import type { BoardPort } from "../core/ports.ts";
import type { PowerOnOff, ProximityPilot } from "../core/types/index.ts";
import { AMPACITIES, CpMode, DUTY_STEADY, POWER_REASONS } from "../board-protocol/index.ts";
import { defaultRequested, emptyBoardView, type Requested, type Shm } from "./shm-layout.ts";

function finite(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw new RangeError(`${name}: must be a finite number, got ${String(value)}`);
  return value;
}

export class ShmBoardPort implements BoardPort {
  /** What the kernel asked for last; the host also reads and resets it on worker failure. */
  readonly requested: Requested = defaultRequested();
  readonly #view = emptyBoardView();

  /** `ring` tells the worker; `open` is false once the board is stopped (writes are dropped). */
  constructor(
    private readonly shm: Shm,
    private readonly ring: () => void,
    private readonly open: () => boolean = () => true,
  ) {}

  /** Publishes `requested` to the worker. */
  write(): void {
    if (!this.open()) return;
    this.shm.writeRequested(this.requested);
    this.ring();
  }

  enable(value: boolean): void {
    this.requested.enable = value === true;
    this.write();
  }

  pwm_on(value: number): void {
    finite("pwm_on.value", value);
    if (value < 0 || value > 100) throw new RangeError(`pwm_on.value: must be between 0 and 100 %, got ${value}`);
    const duty = Math.round(value * 100);
    // Upstream: a duty of 0 acts as X1; 100 % is a steady level as well.
    const steady = duty <= 0 || duty >= 10000;
    this.requested.cpMode = steady ? CpMode.X1 : CpMode.PWM;
    this.requested.duty = steady ? DUTY_STEADY : duty;
    this.write();
  }

  pwm_off(): void {
    this.requested.cpMode = CpMode.X1;
    this.requested.duty = DUTY_STEADY;
    this.write();
  }

  pwm_F(): void {
    this.requested.cpMode = CpMode.F;
    this.requested.duty = DUTY_STEADY;
    this.write();
  }

  allow_power_on(value: PowerOnOff): void {
    this.requested.allow = value.allow_power_on === true;
    const reason = POWER_REASONS.indexOf(value.reason);
    this.requested.allowReason = reason < 0 ? 0 : reason;
    this.write();
  }

  ac_switch_three_phases_while_charging(value: boolean): void {
    this.requested.threePhases = value === true;
    this.write();
  }

  ac_set_overcurrent_limit_A(value: number): void {
    finite("ac_set_overcurrent_limit_A.value", value);
    this.requested.overcurrent = Math.max(0, Math.min(0xffff, Math.round(value * 10)));
    this.write();
  }

  ac_read_pp_ampacity(): ProximityPilot {
    const v = this.#view;
    if (!this.shm.readBoard(v) || !v.socket) return { ampacity: "None" };
    return { ampacity: AMPACITIES[v.ampacity] ?? "None" };
  }

  lock(): void {
    this.requested.lock = true;
    this.write();
  }

  unlock(): void {
    this.requested.lock = false;
    this.write();
  }
}
