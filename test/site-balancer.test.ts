// Site load balancing (integration.md §6): the pure balancer, then three kernels on a 32 A site
// (kernel harness, injected clock) with cars plugging, pausing and unplugging in random order.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { currentForDutyPercent, offeredForLimit, SiteBalancer, type SiteMember } from "../core/site-balancer.ts";
import { SiteCoordinator } from "../core/site-coordinator.ts";
import { Harness } from "./kernel-harness.ts";

const want = (capA = 32, offeredA = 0): SiteMember => ({ wants: true, capA, offeredA });
const idle = (offeredA = 0): SiteMember => ({ wants: false, capA: 32, offeredA });

/** Runs step() until the shares stop changing, with every PWM following its share at once. */
function settle(b: SiteBalancer, members: SiteMember[]): number[] {
  let shares = b.shares();
  for (let k = 0; k < 10; k++) {
    const m = members.map((x, i) => ({ ...x, offeredA: offeredForLimit(Math.min(shares[i]!, x.capA)) }));
    const next = b.step(m);
    if (next.every((s, i) => s === shares[i])) return next;
    shares = next;
  }
  return shares;
}

describe("the site balancer", () => {
  test("splits evenly, rounded down to 0.1 A, and the offers fit the site", () => {
    const b = new SiteBalancer(32, 3);
    expect(settle(b, [want(), want(), want()])).toEqual([10.6, 10.6, 10.6]);
    const b2 = new SiteBalancer(32, 2);
    const two = settle(b2, [want(), want()]);
    // 16 A is a 26.67 % duty, which an EV reads as 16.002 A: one share gives 0.1 A back.
    expect(two).toEqual([16, 15.9]);
    expect(two.reduce((s, a) => s + offeredForLimit(a), 0)).toBeLessThanOrEqual(32);
  });

  test("an EVSE limited below its even part leaves the rest to the others", () => {
    const b = new SiteBalancer(32, 3);
    expect(settle(b, [want(8), want(), want()])).toEqual([8, 12, 12]);
  });

  test("6 A or nothing: the last to come waits, and resumes first-come when current frees up", () => {
    const b = new SiteBalancer(20, 4);
    let members = [want(), idle(), idle(), idle()];
    expect(settle(b, members)).toEqual([20, 0, 0, 0]);
    members = [want(), idle(), want(), idle()];
    settle(b, members);
    members = [want(), want(), want(), idle()];
    expect(settle(b, members)).toEqual([6.6, 6.6, 6.6, 0]);
    members = [want(), want(), want(), want()];
    expect(settle(b, members)).toEqual([6.6, 6.6, 6.6, 0]);
    expect(b.order()).toEqual([0, 2, 1, 3]);
    // EVSE 1 (index 0) leaves: EVSE 4 came last but still gets current, as the three remaining fit.
    members = [idle(), want(), want(), want()];
    expect(settle(b, members)).toEqual([0, 6.6, 6.6, 6.6]);
  });

  test("a paused EVSE keeps its place: the earliest waiting one resumes first", () => {
    const b = new SiteBalancer(12, 3);
    settle(b, [want(), idle(), idle()]);
    settle(b, [want(), want(), idle()]);
    expect(settle(b, [want(), want(), want()])).toEqual([6, 6, 0]);
    // A fourth would be third in line; when EVSE 2 leaves, EVSE 3 (the earliest waiting) gets current.
    expect(settle(b, [want(), idle(), want()])).toEqual([6, 0, 6]);
  });

  test("lower first: a raise waits until the lowered offer is in effect", () => {
    const b = new SiteBalancer(32, 2);
    expect(b.step([want(32, 0), idle()])).toEqual([32, 0]);
    // EVSE 2 arrives while EVSE 1 still offers 32 A: EVSE 1 is lowered, EVSE 2 must wait.
    expect(b.step([want(32, 32), want(32, 0)])).toEqual([16, 0]);
    expect(b.step([want(32, 32), want(32, 0)])).toEqual([16, 0]);
    // The board now reports EVSE 1's lowered duty: EVSE 2 gets its share.
    expect(b.step([want(32, offeredForLimit(16)), want(32, 0)])).toEqual([16, 15.9]);
  });

  test("no site current below 6 A is handed out", () => {
    const b = new SiteBalancer(10, 2);
    // 10 A would be a 16.67 % duty, read as 10.002 A: the share is 9.9 A.
    expect(settle(b, [want(), want()])).toEqual([9.9, 0]);
  });

  test("duty and current as the EV reads them (standards.md §1.4)", () => {
    expect(currentForDutyPercent(null)).toBe(0);
    expect(currentForDutyPercent(10)).toBe(6);
    expect(currentForDutyPercent(53.33)).toBeCloseTo(31.998, 3);
    expect(currentForDutyPercent(89.2)).toBeCloseTo(63, 3);
    expect(offeredForLimit(5.9)).toBe(0);
    expect(offeredForLimit(6)).toBe(6);
    expect(offeredForLimit(10.6)).toBeCloseTo(10.602, 3);
  });
});

// ---- three kernels on one 32 A site -------------------------------------------------------

const SITE_A = 32;

class Site {
  readonly evses: Harness[] = [];
  readonly coordinator: SiteCoordinator;
  /** Per EVSE: the car wants to draw (goes to C once the PWM is on). */
  readonly carWants: boolean[] = [];
  violations: string[] = [];
  reports = 0;

  private constructor(evses: Harness[]) {
    this.evses = evses;
    this.carWants = evses.map(() => false);
    this.coordinator = new SiteCoordinator(
      SITE_A,
      evses.map((h) => ({ kernel: h.kernel, reportedDutyPercent: () => h.board.duty })),
      () => {},
    );
    // Every PWM change is a board report: check the invariant at each one.
    for (const h of evses) {
      const board = h.board;
      for (const method of ["pwm_on", "pwm_off", "pwm_F"] as const) {
        const original = board[method].bind(board) as (d?: number) => void;
        (board as unknown as Record<string, (d?: number) => void>)[method] = (d?: number) => {
          original(d);
          this.check();
        };
      }
    }
  }

  static async create(n: number): Promise<Site> {
    const evses: Harness[] = [];
    for (let k = 0; k < n; k++) evses.push(new Harness({ config: { disable_authentication: true } }));
    const site = new Site(evses);
    site.coordinator.start();
    for (const h of evses) {
      h.kernel.boot();
      h.input({ kind: "capabilities", value: (await import("./kernel-harness.ts")).CAPABILITIES });
      h.input({ kind: "powermeter", value: { timestamp: new Date(h.clock.now()).toISOString(), energy_Wh_import: { total: 0 } } });
      h.board.sync();
      await h.kernel.idle();
    }
    return site;
  }

  offers(): number[] {
    return this.evses.map((h) => currentForDutyPercent(h.board.output === "PWM" ? Math.round(h.board.duty! * 100) / 100 : null));
  }

  check(): void {
    this.reports++;
    const offers = this.offers();
    const sum = offers.reduce((a, b) => a + b, 0);
    if (sum > SITE_A + 1e-9) this.violations.push(`sum of offers ${sum.toFixed(3)} A > ${SITE_A} A (${offers.map((o) => o.toFixed(2)).join(", ")})`);
    for (const o of offers) if (o > 0 && o < 6) this.violations.push(`an EVSE is offered ${o} A`);
  }

  /** 100 ms host ticks: every kernel ticks, the cars react to the PWM, then the site re-balances. */
  async advance(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 100) {
      for (const h of this.evses) {
        h.clock.t += 100;
        await h.kernel.tick();
      }
      await this.idle();
      for (let i = 0; i < this.evses.length; i++) {
        const h = this.evses[i]!;
        if (this.carWants[i] && h.board.car === "B" && h.board.output === "PWM") await h.car("C");
      }
      this.coordinator.rebalance();
      await this.idle();
    }
  }

  async idle(): Promise<void> {
    for (const h of this.evses) await h.kernel.idle();
  }

  async plug(i: number): Promise<void> {
    if (this.evses[i]!.board.car !== "A") return;
    this.carWants[i] = true;
    await this.evses[i]!.car("B");
  }

  async unplug(i: number): Promise<void> {
    this.carWants[i] = false;
    await this.evses[i]!.car("A");
  }

  /** The car stops drawing by itself (C → B, ChargingPausedEV) or wants again. */
  async evPause(i: number, paused: boolean): Promise<void> {
    const h = this.evses[i]!;
    if (h.board.car === "A") return;
    this.carWants[i] = !paused;
    if (paused && h.board.car === "C") await h.car("B");
  }
}

type Op = { kind: "plug" | "unplug" | "pause" | "resume"; evse: number; thenMs: number };
const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom("plug", "plug", "unplug", "pause", "resume"),
  evse: fc.integer({ min: 0, max: 2 }),
  thenMs: fc.constantFrom(0, 100, 300, 1000, 2500, 6000),
});

describe("three EVSEs on a 32 A site (kernel harness)", () => {
  test("charging one after another: shares follow, sums stay within the site at every report", async () => {
    const site = await Site.create(3);
    await site.plug(0);
    await site.advance(1000);
    expect(site.evses[0]!.kernel.status().state).toBe("Charging");
    expect(site.offers()[0]).toBeCloseTo(32, 1);
    await site.plug(1);
    await site.advance(12_000);
    expect(site.evses.map((h) => h.kernel.status().state)).toEqual(["Charging", "Charging", "Idle"]);
    expect(site.offers().map((o) => Math.round(o * 10) / 10)).toEqual([16, 15.9, 0]);
    await site.plug(2);
    await site.advance(12_000);
    expect(site.evses.map((h) => h.kernel.status().site_share_A)).toEqual([10.6, 10.6, 10.6]);
    expect(site.offers().map((o) => Math.round(o * 10) / 10)).toEqual([10.6, 10.6, 10.6]);
    await site.unplug(0);
    await site.advance(12_000);
    expect(site.offers().map((o) => Math.round(o * 10) / 10)).toEqual([0, 16, 15.9]);
    expect(site.violations).toEqual([]);
  });

  test("an EVSE whose share is 0 waits in WaitingForEnergy with its session kept", async () => {
    const site = await Site.create(3);
    // A 32 A site holds five 6 A offers; three always fit, so shrink the site through the caps:
    // EVSE 1 limited to 0 A by the local energy manager does not want current at all.
    await site.evses[0]!.kernel.localControl({ max_current_A: 0 });
    await site.plug(0);
    await site.advance(1000);
    expect(site.evses[0]!.kernel.status().state).toBe("WaitingForEnergy");
    expect(site.evses[0]!.kernel.status().session_uuid).not.toBeNull();
    expect(site.evses[0]!.kernel.status().site_share_A).toBe(0);
    await site.evses[0]!.kernel.localControl({ max_current_A: 10 });
    await site.advance(1000);
    expect(site.evses[0]!.kernel.status().site_share_A).toBe(10);
    expect(site.evses[0]!.kernel.status().state).toBe("Charging");
  });

  test("random plugging, pausing and unplugging: sum of offers ≤ 32 A and no offer below 6 A, at every report", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        const site = await Site.create(3);
        for (const op of ops) {
          if (op.kind === "plug") await site.plug(op.evse);
          else if (op.kind === "unplug") await site.unplug(op.evse);
          else await site.evPause(op.evse, op.kind === "pause");
          await site.idle();
          site.check();
          await site.advance(op.thenMs);
        }
        // Once settled, every car that wants current is offered some: three always fit on 32 A.
        await site.advance(12_000);
        expect(site.violations).toEqual([]);
        site.evses.forEach((h, i) => {
          if (site.carWants[i]) expect(site.offers()[i]!).toBeGreaterThanOrEqual(6);
        });
        expect(site.reports).toBeGreaterThan(0);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
