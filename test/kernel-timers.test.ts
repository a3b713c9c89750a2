// Timed transitions scenarios cannot easily reach: legacy wake-up and T_step_EF (§6.4, §6.11),
// the C1 rule (§7.1), and the connector lock with force_unlock (§7.6, S24).
import { describe, expect, test } from "bun:test";
import { AUTH_A, END_EVENTS, en, enf, Harness } from "./kernel-harness.ts";

describe("legacy wake-up (row 27, S31)", () => {
  test("30 s without C: F for 4 s, X1 for 0.75 s, PrepareCharging again, after 10 s ChargingPausedEV; then ChargingStarted [Q22]", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    const m = h.mark();
    await h.car("B");
    expect(h.events(m).at(-1)).toBe("PrepareCharging");
    await h.advance(30000);
    expect(h.board.output).toBe("PWM");
    await h.advance(200);
    expect(h.board.output).toBe("F");
    expect(h.board.relays).toBe(false);
    await h.advance(3800);
    expect(h.board.output).toBe("F");
    await h.advance(200);
    expect(h.board.output).toBe("X1");
    await h.advance(500);
    expect(h.board.output).toBe("X1");
    await h.advance(200);
    expect(h.board.duty).toBeCloseTo(53.33, 2);
    expect(h.events(m).slice(4)).toEqual(["PrepareCharging", "PrepareCharging"]);
    await h.advance(9900);
    expect(h.events(m)).toHaveLength(6);
    await h.advance(200);
    expect(h.events(m).slice(6)).toEqual(["ChargingPausedEV"]);
    expect(h.board.duty).toBeCloseTo(53.33, 2);
    await h.advance(20000);
    expect(h.events(m)).toHaveLength(7); // the wake-up runs once per PrepareCharging stay
    await h.car("C");
    expect(h.events(m).slice(7)).toEqual(["ChargingStarted"]);
    expect(h.board.relays).toBe(true);
    await h.car("A");
    expect(h.events(m).slice(8)).toEqual(END_EVENTS);
  });

  test("an unplug during T_step_EF takes effect on return", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    const m = h.mark();
    await h.car("B");
    await h.advance(31000);
    expect(h.board.output).toBe("F");
    h.board.car = "A"; // invisible while F
    await h.advance(3500);
    expect(h.events(m)).toHaveLength(5);
    await h.advance(1000);
    // The return state is entered (its entry event included), then the unplug applies.
    expect(h.events(m).slice(5)).toEqual(["PrepareCharging", ...END_EVENTS]);
  });

  test("a fault in PrepareCharging restarts the wake-up timer", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    await h.car("B");
    await h.advance(20000);
    h.input({ kind: "error_raised", type: "evse_board_support/DiodeFault", sub_type: "", message: "", severity: "High" });
    await h.advance(1000);
    h.input({ kind: "error_cleared", type: "evse_board_support/DiodeFault", sub_type: "" });
    await h.advance(20000);
    expect(h.board.output).toBe("PWM"); // 30 s counted again from the fault
    await h.advance(10500);
    expect(h.board.output).toBe("F");
  });
});

describe("C1 rule", () => {
  test("PWM off while the EV stays in C withdraws power after 6 s (WaitingForEnergy)", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    await h.startCharging({ free: true });
    await h.enforce(enf(0, h.clock));
    expect(h.board.output).toBe("X1");
    expect(h.board.relays).toBe(true);
    await h.advance(5900);
    expect(h.board.relays).toBe(true);
    await h.advance(200);
    expect(h.board.relays).toBe(false);
  });

  test("PWM back within 6 s cancels the C1 timer and recloses with R+ held", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    await h.startCharging({ free: true });
    await h.cmd("pause_charging");
    await h.advance(3000);
    await h.cmd("resume_charging");
    await h.advance(5000);
    expect(h.board.relays).toBe(true);
    expect(h.board.duty).toBeCloseTo(53.33, 2);
  });
});

describe("connector lock (S24)", () => {
  test("force_unlock in B holds until the lock-wanted flag clears; closed relays always lock", async () => {
    const h = await Harness.start();
    const m = h.mark();
    await h.car("B");
    expect(h.board.locked).toBe(true);
    expect(await h.cmd("force_unlock", { connector_id: 1 })).toBe(true);
    expect(h.board.locked).toBe(false);
    expect(await h.cmd("force_unlock", { connector_id: 2 })).toBe(false);
    await h.cmd("authorize_response", AUTH_A);
    expect(h.board.locked).toBe(false);
    await h.car("C");
    expect(h.board.relays).toBe(true);
    expect(h.board.locked).toBe(true);
    expect(await h.cmd("force_unlock", { connector_id: 0 })).toBe(true);
    expect(h.board.locked).toBe(true);
    expect(await h.cmd("stop_transaction", { request: { reason: "Local" } })).toBe(true);
    await h.car("B");
    expect(h.board.relays).toBe(false);
    expect(h.board.locked).toBe(false);
    await h.car("A");
    expect(h.board.locked).toBe(false);
    expect(h.events(m)).toEqual([
      "SessionStarted",
      "AuthRequired",
      "Authorized",
      "TransactionStarted",
      "PrepareCharging",
      "ChargingStarted",
      "StoppingCharging",
      "ChargingFinished",
      "TransactionFinished",
      "SessionFinished",
    ]);
  });

  test("with lock_connector_in_state_b false the connector locks only in C", async () => {
    const h = await Harness.start({ config: { lock_connector_in_state_b: false } });
    await h.car("B");
    expect(h.board.locked).toBe(false);
    await h.cmd("authorize_response", AUTH_A);
    await h.car("C");
    expect(h.board.locked).toBe(true);
  });

  test("disable while plugged: the lock opens 5 s after F", async () => {
    const h = await Harness.start();
    await h.car("B");
    await h.cmd("enable_disable", en("CSMS", "Disable", 100));
    await h.advance(4900);
    expect(h.board.locked).toBe(true);
    await h.advance(200);
    expect(h.board.locked).toBe(false);
  });
});
