// Acceptance scenario S25 (scenarios.md): a transaction open when the process ends is finished with
// PowerLoss at the next start (D7).
import { expect, test } from "bun:test";
import { PLUG_CHARGE, SCENARIO_TIMEOUT, energyOf, now, scenario, sleep, type Ctx, type Server } from "./harness.ts";

const TOKEN_R = { id_token: { value: "RESTART01", type: "ISO14443" }, authorization_type: "RFID" };
const AUTH_R = { provided_token: TOKEN_R, validation_result: { authorization_status: "Accepted" } };

/** Steps 1–2: charge 15 s; returns U, M0 and M1. */
async function chargeAndNote(s: Server): Promise<{ U: string; M0: number; M1: number }> {
  await s.car(PLUG_CHARGE);
  await s.waitEvent("AuthRequired");
  await s.cmdIs("authorize_response", AUTH_R, null);
  await s.waitEvent("ChargingStarted");
  const ts = s.last("TransactionStarted");
  const U = ts.uuid;
  expect(U).not.toBe("");
  const M0 = energyOf(ts, "transaction_started");
  await sleep(15_000);
  const pm = s.pubs("powermeter").at(-1)?.data as { energy_Wh_import?: { total?: number } } | undefined;
  const M1 = pm?.energy_Wh_import?.total;
  if (typeof M1 !== "number") throw new Error("no powermeter publication on the stream");
  return { U, M0, M1 };
}

async function restartAfter(ctx: Ctx, s: Server, sig: "SIGKILL" | "SIGTERM", config?: Record<string, unknown>): Promise<Server> {
  s.signal(sig);
  await s.exited;
  return ctx.start({ dir: s.dir, ...(config ? { config } : {}) });
}

function checkPowerLoss(s: Server, U: string): number {
  const tf = s.last("TransactionFinished");
  expect(tf.uuid).toBe(U);
  expect(tf.transaction_finished.reason).toBe("PowerLoss");
  expect(tf.transaction_finished.id_tag).toEqual(TOKEN_R);
  return energyOf(tf, "transaction_finished");
}

test.concurrent(
  "S25A after a power loss (SIGKILL) the open transaction is finished with PowerLoss at the next start, once",
  () =>
    scenario(async (ctx) => {
      const s1 = await ctx.start();
      const { U, M0, M1 } = await chargeAndNote(s1);

      const s2 = await restartAfter(ctx, s1, "SIGKILL");
      await s2.finish(["TransactionFinished", "Enabled"], { fromStart: true, settleMs: 5000 });
      const v = checkPowerLoss(s2, U);
      expect(v).toBeGreaterThanOrEqual(M0);
      expect(v).toBeLessThanOrEqual(M1 + 5);
      expect(v).toBeGreaterThanOrEqual(M1 - 35);
      await s2.checkpoint({ cp: "A", relays: false });

      const s3 = await restartAfter(ctx, s2, "SIGTERM");
      await s3.finish(["Enabled"], { fromStart: true, settleMs: 5000 });
    }),
  { timeout: 240_000 },
);

test.concurrent(
  "S25B after a graceful stop (SIGTERM, exit 0 within 2 s) the transaction is finished with PowerLoss at the next start",
  () =>
    scenario(async (ctx) => {
      const s1 = await ctx.start();
      const { U, M1 } = await chargeAndNote(s1);

      const t = now();
      s1.signal("SIGTERM");
      const code = await Promise.race([s1.exited, sleep(2000).then(() => "timeout" as const)]);
      expect({ exit: code }).toEqual({ exit: 0 });
      expect(now() - t).toBeLessThanOrEqual(2000);

      const s2 = await ctx.start({ dir: s1.dir });
      await s2.finish(["TransactionFinished", "Enabled"], { fromStart: true, settleMs: 5000 });
      expect(checkPowerLoss(s2, U)).toBeGreaterThanOrEqual(M1);
    }),
  SCENARIO_TIMEOUT,
);

test.concurrent(
  "S25C with keep_plug_state_across_restart the car still in B after a power loss gives SessionResumed and a new session",
  () =>
    scenario(async (ctx) => {
      const config = { sim: { keep_plug_state_across_restart: true } };
      const s1 = await ctx.start({ config });
      const { U } = await chargeAndNote(s1);

      const s2 = await restartAfter(ctx, s1, "SIGKILL", config);
      await s2.waitEvent("AuthRequired");
      await s2.holds({ pwm: null }, 3000);
      await s2.finish(["TransactionFinished", "Enabled", "SessionResumed", "SessionStarted", "AuthRequired"], {
        fromStart: true,
      });
      checkPowerLoss(s2, U);
      expect(s2.last("SessionResumed").uuid).toBe(U);
      const started = s2.last("SessionStarted");
      expect(started.session_started.reason).toBe("EVConnected");
      expect(started.uuid).not.toBe(U);
      expect(started.uuid).not.toBe("");
    }),
  SCENARIO_TIMEOUT,
);
