// Applies the site balancer (site-balancer.ts) to the kernels of one process: reads each kernel's
// snapshot and what its board reports offering, and hands out the shares. Called by the host on
// every tick and after control changes, so a plug, unplug, pause or limit change is re-balanced
// within one tick. Pure: no timers, no I/O; the board report comes in as a function.
import type { EvseKernel, KernelStatus } from "./kernel-api.ts";
import { currentForDutyPercent, offeredForLimit, SiteBalancer, type SiteMember } from "./site-balancer.ts";

/** States in which a transaction holds, or is about to get, a PWM offer. A car that paused
 *  itself (ChargingPausedEV) keeps its offer, so it keeps its share; a user pause does not. */
const WANTING_STATES: ReadonlySet<string> = new Set(["PrepareCharging", "WaitingForEnergy", "Charging", "ChargingPausedEV", "SwitchPhases", "T_step_EF"]);

export function wantsToCharge(s: KernelStatus): boolean {
  return s.transaction_active && s.enabled && !s.faulted && WANTING_STATES.has(s.state);
}

export interface SiteEvse {
  kernel: Pick<EvseKernel, "status" | "setSiteShare">;
  /** PWM duty in percent the board reports generating now; null without PWM (or unknown). */
  reportedDutyPercent(): number | null;
}

export class SiteCoordinator {
  readonly balancer: SiteBalancer;
  private readonly handedOut: (number | null)[];

  constructor(
    maxA: number,
    private readonly evses: readonly SiteEvse[],
    private readonly log: (index: number, line: string) => void,
  ) {
    this.balancer = new SiteBalancer(maxA, evses.length);
    this.handedOut = evses.map(() => null);
  }

  /** Before the kernels boot: no EVSE may offer anything the balancer has not granted. */
  start(): void {
    this.evses.forEach((e, i) => {
      this.handedOut[i] = 0;
      void e.kernel.setSiteShare(0);
    });
  }

  rebalance(): void {
    const members: SiteMember[] = this.evses.map((e) => {
      const s = e.kernel.status();
      const commanded = s.offered_current_A > 0 ? offeredForLimit(s.offered_current_A) : 0;
      return { wants: wantsToCharge(s), capA: s.own_limit_A, offeredA: Math.max(commanded, currentForDutyPercent(e.reportedDutyPercent())) };
    });
    const shares = this.balancer.step(members);
    shares.forEach((share, i) => {
      if (share === this.handedOut[i]) return;
      this.log(i + 1, `site share ${this.handedOut[i] ?? "none"} A -> ${share} A (site ${this.balancer.maxA} A, charging order ${this.balancer.order().map((k) => k + 1).join(",") || "-"})`);
      this.handedOut[i] = share;
      void this.evses[i]!.kernel.setSiteShare(share);
    });
  }
}
