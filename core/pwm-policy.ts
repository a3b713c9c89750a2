// When the charger changes the PWM offer (behavior.md §7.2, §7.4 [Q28]): the duty follows the
// effective current, immediately when PWM switches on or from a state entry, at most every 5 s while
// it runs; in simplified mode hack_simplified_mode_limit_10A caps the offer at 10 A. The current →
// duty table itself is pwm.ts.
import type { CpEvent, IecStateMachine } from "./iec-state-machine.ts";
import type { Clock } from "./ports.ts";
import { dutyPercentForCurrent } from "./pwm.ts";

const PWM_CHANGE_INTERVAL_MS = 5000;

export class PwmPolicy {
  constructor(
    private readonly iec: IecStateMachine,
    private readonly clock: Clock,
    private readonly limitSimplifiedTo10A: boolean,
    /** Events the CP layer synthesizes when the offer changes go back to the charger. */
    private readonly onCpEvent: (e: CpEvent) => void,
  ) {}

  /** Offer the current now (X1 when it is too low for PWM). */
  offer(currentA: number): void {
    const capped = this.capSimplified(currentA);
    const duty = dutyPercentForCurrent(capped);
    if (duty === null) this.iec.x1();
    else this.setPwm(duty, capped);
  }

  /** Offer the current unless that duty is already on the CP. */
  offerIfChanged(currentA: number): void {
    const capped = this.capSimplified(currentA);
    const duty = dutyPercentForCurrent(capped);
    if (duty === null) this.iec.x1();
    else if (duty !== this.iec.dutyPercent) this.setPwm(duty, capped);
  }

  /** Duty changes of a running PWM at most every 5 s; switching PWM on is immediate [Q28]. */
  offerRateLimited(currentA: number): void {
    const capped = this.capSimplified(currentA);
    const duty = dutyPercentForCurrent(capped);
    if (duty === null) return this.iec.x1();
    if (!this.iec.pwmRunning) return this.setPwm(duty, capped);
    if (duty !== this.iec.dutyPercent && this.clock.now() - this.iec.lastPwmChangeAt >= PWM_CHANGE_INTERVAL_MS) {
      this.setPwm(duty, capped);
    }
  }

  private capSimplified(currentA: number): number {
    return this.limitSimplifiedTo10A && this.iec.simplifiedMode ? Math.min(currentA, 10) : currentA;
  }

  private setPwm(duty: number, currentA: number): void {
    this.iec.pwm(duty, currentA);
    for (const e of this.iec.takeSynthesized()) this.onCpEvent(e);
  }
}
