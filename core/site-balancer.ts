// Site load balancing (integration.md §6): several EVSEs on one supply share `site.max_current_A`.
// Each EVSE that wants to charge gets at least 6 A or nothing; the rest is split evenly (an EVSE
// that cannot take its even part leaves the remainder to the others), rounded down to 0.1 A. When
// not all can get 6 A, the ones that started wanting last get 0 (the kernel waits in
// WaitingForEnergy) and get current again first-come.
//
// The invariant: the sum of what the PWMs offer never exceeds the site limit, also while shares
// change. A share goes down at once; a share goes up only when the headroom left by every EVSE's
// worst case — the larger of its share and what its PWM offers now (commanded or reported by the
// board) — allows it. So raises wait until the lowered offers are in effect (the PWM rate rule can
// hold a lowered duty back for up to 5 s). Offers are counted as the EV reads the duty, at the
// board's 0.01 % resolution, so a rounded-up duty cannot tip the sum over the limit either.
import { dutyPercentForCurrent } from "./pwm.ts";

/** IEC 61851-1 minimum offer. */
export const MIN_SHARE_A = 6;

/** The current an EV reads from a duty in percent (standards.md §1.4); 0 for no PWM. */
export function currentForDutyPercent(duty: number | null): number {
  if (duty === null || duty < 8 || duty >= 100) return 0;
  if (duty < 10) return 6;
  if (duty <= 85) return duty * 0.6;
  if (duty <= 96) return (duty - 64) * 2.5;
  return 80;
}

/** What an EV is offered for a limit of `currentA`: the duty as the board generates it. */
export function offeredForLimit(currentA: number): number {
  const duty = dutyPercentForCurrent(currentA);
  return duty === null ? 0 : currentForDutyPercent(Math.round(duty * 100) / 100);
}

export interface SiteMember {
  /** A transaction that may draw current now (see site-coordinator.ts). */
  wants: boolean;
  /** The EVSE's own limit without the site share (config, hardware, cable, energy managers). */
  capA: number;
  /** What its PWM offers now, the larger of the kernel's command and the board's report. */
  offeredA: number;
}

const EPSILON_A = 1e-9;

export class SiteBalancer {
  /** Indices of the EVSEs that want to charge, in the order they started wanting. */
  private queue: number[] = [];
  /** Shares in 0.1 A, as last handed out. */
  private granted: number[];
  private readonly maxDeci: number;

  constructor(
    readonly maxA: number,
    count: number,
  ) {
    this.maxDeci = Math.floor(maxA * 10 + EPSILON_A);
    this.granted = new Array<number>(count).fill(0);
  }

  /** Shares in A, index by index, as last handed out. */
  shares(): number[] {
    return this.granted.map((d) => d / 10);
  }

  /** The EVSEs that want to charge, first-come first. */
  order(): readonly number[] {
    return this.queue;
  }

  /** The shares the site aims at for these members (no transition rule applied). */
  targets(members: readonly SiteMember[]): number[] {
    this.updateQueue(members);
    const deci = new Array<number>(members.length).fill(0);
    const capDeci = (i: number) => Math.floor(members[i]!.capA * 10 + EPSILON_A);
    const served = this.queue.slice(0, Math.floor(this.maxDeci / (MIN_SHARE_A * 10)));
    // Water-filling: an EVSE whose cap is below the even part takes its cap; the others share
    // what is left evenly, each the same amount rounded down to 0.1 A.
    let left = this.maxDeci;
    const byCap = [...served].sort((a, b) => capDeci(a) - capDeci(b));
    for (let k = 0; k < byCap.length; k++) {
      const even = Math.floor(left / (byCap.length - k));
      if (capDeci(byCap[k]!) <= even) {
        deci[byCap[k]!] = capDeci(byCap[k]!);
        left -= capDeci(byCap[k]!);
        continue;
      }
      for (const i of byCap.slice(k)) deci[i] = even;
      break;
    }
    // A duty rounded up may offer a few mA more than the share: take 0.1 A off the largest share
    // (the latest to come among equals) until the offers fit.
    const offered = () => deci.reduce((sum, d) => sum + offeredForLimit(d / 10), 0);
    while (offered() > this.maxA + EPSILON_A) {
      const i = [...served].reverse().reduce((best, j) => (deci[j]! > deci[best]! ? j : best), served[served.length - 1]!);
      deci[i] = deci[i]! - 1 >= MIN_SHARE_A * 10 ? deci[i]! - 1 : 0;
    }
    return deci.map((d) => d / 10);
  }

  /** One re-balancing step: lowers at once, raises only what the headroom allows. Returns the
   *  shares (A) to hand to the kernels now. */
  step(members: readonly SiteMember[]): number[] {
    if (members.length !== this.granted.length) throw new Error(`site balancer built for ${this.granted.length} EVSEs, got ${members.length}`);
    const target = this.targets(members).map((a) => Math.round(a * 10));
    for (let i = 0; i < target.length; i++) if (target[i]! < this.granted[i]!) this.granted[i] = target[i]!;
    const upper = (i: number, deci: number) => Math.max(offeredForLimit(deci / 10), members[i]!.offeredA);
    let headroom = this.maxA - members.reduce((sum, _, i) => sum + upper(i, this.granted[i]!), 0);
    const raiseOrder = [...this.queue, ...members.map((_, i) => i).filter((i) => !this.queue.includes(i))];
    for (const i of raiseOrder) {
      if (target[i]! <= this.granted[i]!) continue;
      const delta = upper(i, target[i]!) - upper(i, this.granted[i]!);
      if (delta > headroom + EPSILON_A) continue; // wait for lowered offers to take effect
      this.granted[i] = target[i]!;
      headroom -= delta;
    }
    return this.shares();
  }

  private updateQueue(members: readonly SiteMember[]): void {
    this.queue = this.queue.filter((i) => members[i]?.wants && members[i]!.capA >= MIN_SHARE_A);
    members.forEach((m, i) => {
      if (m.wants && m.capA >= MIN_SHARE_A && !this.queue.includes(i)) this.queue.push(i);
    });
  }
}
