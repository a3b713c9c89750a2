// Site load balancing end to end (integration.md §6): the real program with three simulated
// EVSEs on a 32 A site; cars plug in and unplug in a random order while every EVSE's simulated
// board is watched: the PWM offers never add up to more than 32 A, and no EVSE is offered
// between 0 and 6 A.
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { currentForDutyPercent } from "../core/site-balancer.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

const PLUG_CHARGE = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000";
const SITE_A = 32;

const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

type Op = { evse: number; plug: boolean; waitMs: number };

describe("three EVSEs on a 32 A site (real program)", () => {
  test("random plugging and unplugging: sum of PWM offers ≤ 32 A and no offer in 0 < I < 6 A", async () => {
    const srv = await startServer({
      exe: "binary",
      config: { site: { max_current_A: SITE_A }, evses: [1, 2, 3].map(() => ({ disable_authentication: true })) },
      waitReady: true,
    });
    servers.push(srv);
    const offers = async () =>
      Promise.all([1, 2, 3].map(async (i) => currentForDutyPercent((await srv.get(`/api/v1/evses/${i}/sim`)).body.pwm_duty_percent)));
    const violations: string[] = [];
    let samples = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const o = await offers();
        samples++;
        const sum = o.reduce((a, b) => a + b, 0);
        if (sum > SITE_A + 1e-9) violations.push(`sum ${sum.toFixed(3)} A: ${o.join(", ")}`);
        if (o.some((x) => x > 0 && x < 6)) violations.push(`offer below 6 A: ${o.join(", ")}`);
        await Bun.sleep(10);
      }
    })();

    const plugged = [false, false, false];
    const opArb = fc.record({ evse: fc.integer({ min: 0, max: 2 }), plug: fc.boolean(), waitMs: fc.constantFrom(200, 800, 2500, 6000) });
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 8, maxLength: 8 }), async (ops: Op[]) => {
        // Everyone plugs in first (in the generated order), then the random part.
        for (const i of [...new Set([...ops.map((o) => o.evse), 0, 1, 2])]) ops.unshift({ evse: i, plug: true, waitMs: 1500 });
        for (const op of ops) {
          if (op.plug !== plugged[op.evse]) {
            const body = op.plug ? { script: PLUG_CHARGE, replace: true } : { script: "unplug", replace: true };
            expect((await srv.post(`/api/v1/evses/${op.evse + 1}/sim/car`, body)).status).toBe(202);
            plugged[op.evse] = op.plug;
          }
          await Bun.sleep(op.waitMs);
        }
      }),
      { numRuns: 1 },
    );
    // Settled (every lowered duty in effect after the 5 s rule): each plugged car is offered ≥ 6 A.
    await Bun.sleep(12_000);
    const final = await offers();
    watching = false;
    await watcher;
    expect(violations).toEqual([]);
    expect(samples).toBeGreaterThan(50);
    plugged.forEach((p, i) => (p ? expect(final[i]!).toBeGreaterThanOrEqual(6) : expect(final[i]).toBe(0)));
    const statuses = await Promise.all([1, 2, 3].map(async (i) => (await srv.get(`/api/v1/evses/${i}/status`)).body));
    const active = plugged.filter(Boolean).length;
    const share = active === 0 ? 0 : Math.floor((SITE_A / active) * 10) / 10;
    statuses.forEach((s, i) => {
      if (!plugged[i]) expect(s.site_share_A).toBe(0);
      else expect(s.site_share_A).toBeGreaterThanOrEqual(share - 0.1);
    });
    expect(srv.output.some((l) => l.includes("site share"))).toBe(true);
  }, 120_000);
});
