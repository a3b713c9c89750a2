// Fault overlay (behavior.md §8, D1–D3, D8, D12), error classification (§14) and meter failures.
import { describe, expect, test } from "bun:test";
import { AUTH_A, END_EVENTS, en, Harness, START_EVENTS } from "./kernel-harness.ts";

const raise = (type: string, severity: "High" | "Low" = "High") =>
  ({ kind: "error_raised", type, sub_type: "", message: "test", severity }) as const;
const clear = (type: string) => ({ kind: "error_cleared", type, sub_type: "" }) as const;

async function charging(config = {}) {
  const h = await Harness.start({ config: { disable_authentication: true, ...config } });
  await h.startCharging({ free: true });
  return h;
}

describe("blocking board error while charging", () => {
  test("row 13: EV stays in C: F pulse, relays open, no event; on clear PWM and relays return, no event", async () => {
    const h = await charging();
    const m = h.mark();
    h.board.take();
    h.input(raise("evse_board_support/DiodeFault"));
    await h.settle();
    expect(h.board.calls).toEqual(["allow_power_on(false,PowerOff)", "pwm_F"]);
    expect(h.board.relays).toBe(false);
    const types = h.kernel.errors().map((e) => [e.type, e.sub_type, e.message]);
    expect(types).toEqual([
      ["evse_board_support/DiodeFault", "", "test"],
      ["evse_manager/Inoperative", "", "evse_board_support/DiodeFault"],
    ]);
    await h.advance(200);
    expect(h.board.output).toBe("F");
    await h.advance(200);
    expect(h.board.output).toBe("X1"); // 300 ms F pulse [D2]
    await h.advance(2000);
    expect(h.board.output).toBe("X1");
    h.input(clear("evse_board_support/DiodeFault"));
    await h.settle();
    expect(h.kernel.errors()).toEqual([]);
    expect(h.board.duty).toBeCloseTo(53.33, 2);
    expect(h.board.relays).toBe(true);
    expect(h.events(m)).toEqual([]);
  });

  test("a fault that clears while the board still reports our F pulse: the relays close when C is seen again", async () => {
    const h = await charging();
    h.input(raise("evse_board_support/CommunicationFault"));
    await h.settle();
    h.input({ kind: "event", event: "F" }); // the board reports the F pulse
    await h.settle();
    h.input(clear("evse_board_support/CommunicationFault"));
    await h.settle();
    expect(h.board.relays).toBe(false);
    await h.advance(400); // the 300 ms pulse ends; PWM comes back
    h.input({ kind: "event", event: "C" }); // the board sees the car, still in C
    await h.settle();
    expect(h.board.duty).toBeCloseTo(53.33, 2);
    expect(h.board.relays).toBe(true);
  });

  test("row 14: EV goes to B during the fault and back to C after the clear", async () => {
    const h = await charging();
    const m = h.mark();
    h.input(raise("ac_rcd/DC"));
    await h.advance(500);
    await h.car("B");
    expect(h.events(m)).toEqual(["ChargingPausedEV"]);
    h.input(clear("ac_rcd/DC"));
    await h.settle();
    expect(h.board.duty).toBeCloseTo(53.33, 2);
    await h.car("C");
    expect(h.events(m)).toEqual(["ChargingPausedEV", "ChargingResumed"]);
    expect(h.board.relays).toBe(true);
  });

  test("state_F_after_fault_ms 0: X1 at once, no F", async () => {
    const h = await charging({ state_F_after_fault_ms: 0 });
    h.board.take();
    h.input(raise("evse_board_support/DiodeFault"));
    await h.settle();
    expect(h.board.calls).toEqual(["allow_power_on(false,PowerOff)", "pwm_off"]);
  });

  test("non-blocking warnings neither stop charging nor raise Inoperative", async () => {
    const h = await charging();
    h.input(raise("evse_board_support/MREC3HighTemperature", "Low"));
    await h.settle();
    expect(h.board.relays).toBe(true);
    expect(h.kernel.errors().map((e) => e.type)).toEqual(["evse_board_support/MREC3HighTemperature"]);
  });

  test("meter errors block only with fail_on_powermeter_errors", async () => {
    const blocking = await charging();
    blocking.input(raise("powermeter/CommunicationFault"));
    await blocking.settle();
    expect(blocking.board.relays).toBe(false);
    const tolerant = await charging({ fail_on_powermeter_errors: false });
    tolerant.input(raise("powermeter/CommunicationFault"));
    await tolerant.settle();
    expect(tolerant.board.relays).toBe(true);
  });

  test("the derived Inoperative names the first cause in the order own, board, lock, RCD, meter", async () => {
    const h = await Harness.start();
    h.input(raise("ac_rcd/DC"));
    h.input(raise("evse_board_support/DiodeFault"));
    await h.settle();
    const inoperative = h.kernel.errors().filter((e) => e.type === "evse_manager/Inoperative");
    expect(inoperative).toHaveLength(1);
    expect(inoperative[0]!.message).toBe("ac_rcd/DC"); // further causes do not change it
    h.input(clear("ac_rcd/DC"));
    await h.settle();
    expect(h.kernel.errors().map((e) => e.type).sort()).toEqual(["evse_board_support/DiodeFault", "evse_manager/Inoperative"]);
    h.input(clear("evse_board_support/DiodeFault"));
    await h.settle();
    expect(h.kernel.errors()).toEqual([]);
  });

  test("row 16: a blocking error while Idle changes nothing on the CP and emits nothing", async () => {
    const h = await Harness.start();
    const m = h.mark();
    h.board.take();
    h.input(raise("evse_board_support/DiodeFault"));
    h.input(clear("evse_board_support/DiodeFault"));
    await h.settle();
    expect(h.board.calls).toEqual([]);
    expect(h.events(m)).toEqual([]);
  });

  test("a fault in PrepareCharging withholds PWM; the transaction still starts while faulted", async () => {
    const h = await Harness.start({ config: { disable_authentication: true } });
    h.input(raise("evse_board_support/DiodeFault"));
    await h.settle();
    const m = h.mark();
    await h.car("B");
    expect(h.events(m)).toEqual(["SessionStarted", "AuthRequired", "Authorized", "TransactionStarted", "PrepareCharging"]);
    expect(h.board.output).toBe("X1");
    await h.car("C");
    expect(h.events(m)).toHaveLength(5); // no Charging while faulted
    h.input(clear("evse_board_support/DiodeFault"));
    await h.settle();
    expect(h.events(m).slice(5)).toEqual(["ChargingStarted"]);
    expect(h.board.relays).toBe(true);
  });
});

describe("set_faulted [D12]", () => {
  test("row 15: set_faulted while charging raises Inoperative/set_faulted, pulses F, opens relays", async () => {
    const h = await charging({ state_F_after_fault_ms: 1500 });
    await h.cmd("enable_disable", en("CSMS", "Enable", 100));
    const m = h.mark();
    await h.cmd("set_faulted");
    expect(h.board.output).toBe("F");
    expect(h.board.relays).toBe(false);
    expect(h.kernel.errors()).toEqual([
      expect.objectContaining({ type: "evse_manager/Inoperative", sub_type: "set_faulted", severity: "High", state: "Active" }),
    ]);
    await h.advance(1200);
    expect(h.board.output).toBe("F");
    await h.advance(400);
    expect(h.board.output).toBe("X1");
    expect(await h.cmd("reserve", { reservation_id: 1 })).toBe(false);
    await h.cmd("enable_disable", en("MobileApp", "Enable", 200)); // lower priority: not cleared
    expect(h.kernel.errors()).toHaveLength(1);
    await h.cmd("enable_disable", en("LocalAPI", "Enable", 100));
    expect(h.kernel.errors()).toEqual([]);
    expect(h.board.duty).toBeCloseTo(53.33, 2);
    expect(h.board.relays).toBe(true);
    await h.cmd("set_faulted");
    await h.advance(2000);
    expect(h.board.relays).toBe(false);
    await h.car("A");
    expect(h.kernel.errors()).toEqual([]);
    expect(h.events(m)).toEqual(END_EVENTS);
  });

  test("set_faulted with PWM off leaves X1 (no F pulse) and cancels a reservation", async () => {
    const h = await Harness.start();
    await h.cmd("reserve", { reservation_id: 6 });
    const m = h.mark();
    h.board.take();
    await h.cmd("set_faulted");
    expect(h.board.calls).toEqual([]);
    expect(h.events(m)).toEqual(["ReservationEnd"]);
    expect(h.lastEvent("ReservationEnd").uuid).toBe("");
  });

  test("D3: a fault in ChargingPausedEV: no Charging while faulted, ChargingResumed after the clear [Q28]", async () => {
    const h = await charging();
    await h.car("B");
    await h.advance(1000);
    const m = h.mark();
    await h.cmd("set_faulted");
    expect(h.board.output).toBe("F");
    await h.advance(400);
    expect(h.board.output).toBe("X1");
    await h.car("C");
    await h.advance(2000);
    expect(h.events(m)).toEqual([]);
    expect(h.board.relays).toBe(false);
    await h.cmd("enable_disable", en("LocalAPI", "Enable", 100));
    expect(h.events(m)).toEqual(["ChargingResumed"]);
    expect(h.board.duty).toBeCloseTo(53.33, 2); // PWM back at once, not after 5 s
    expect(h.board.relays).toBe(true);
  });
});

describe("contactor watchdog [D8]", () => {
  test("relays still closed 3 s after R−: MREC17EVSEContactorFault, CP held at F, stop procedure continues", async () => {
    const h = await charging();
    h.board.weld = true;
    const m = h.mark();
    await h.car("A");
    expect(h.events(m)).toEqual(["StoppingCharging"]);
    await h.advance(2900);
    expect(h.events(m)).toEqual(["StoppingCharging"]);
    await h.advance(200);
    expect(h.kernel.errors().map((e) => e.type)).toEqual([
      "evse_board_support/MREC17EVSEContactorFault",
      "evse_manager/Inoperative",
    ]);
    expect(h.events(m)).toEqual(END_EVENTS);
    expect(h.board.output).toBe("F");
    await h.advance(1000);
    expect(h.board.output).toBe("F"); // held while the error is active, also in Idle
    h.board.setWeld(false);
    await h.settle();
    expect(h.kernel.errors()).toEqual([]);
    expect(h.board.output).toBe("X1");
    expect(h.events(m)).toEqual(END_EVENTS);
  });
});

describe("soft over-current (§14.5)", () => {
  test("phase current above (advertised + noise) × tolerance for the timeout raises MREC4OverCurrentFailure", async () => {
    const h = await charging({ soft_over_current_timeout_ms: 6000 });
    // advertised 32 A → limit (32 + 0.5) × 1.1 = 35.75 A
    await h.meterReading(10, 35.7);
    await h.advance(7000);
    expect(h.kernel.errors()).toEqual([]);
    await h.meterReading(20, 36);
    await h.advance(5900);
    expect(h.kernel.errors()).toEqual([]);
    await h.meterReading(30, 33); // back below: the timer resets
    await h.meterReading(40, 36);
    await h.advance(5900);
    expect(h.kernel.errors()).toEqual([]);
    await h.advance(200);
    expect(h.kernel.errors().map((e) => e.type)).toEqual(["evse_manager/MREC4OverCurrentFailure", "evse_manager/Inoperative"]);
    expect(h.board.relays).toBe(false);
    await h.advance(300); // the F pulse hides the car's CP from the board
    await h.car("A");
    expect(h.kernel.errors()).toEqual([]); // own errors clear on unplug
  });
});

describe("powermeter start failure [Q9]", () => {
  test("UNEXPECTED_ERROR: no TransactionStarted, blocking error, no retry in the session, cleared on unplug", async () => {
    const h = await Harness.start();
    h.meter!.startResponse = { status: "UNEXPECTED_ERROR", error: "bus down" };
    const m = h.mark();
    await h.car("B");
    await h.cmd("authorize_response", AUTH_A);
    await h.advance(1000);
    expect(h.events(m)).toEqual(["SessionStarted", "AuthRequired", "Authorized"]);
    expect(h.meter!.starts).toHaveLength(1);
    expect(h.kernel.errors()[0]).toMatchObject({ type: "evse_manager/PowermeterTransactionStartFailed", severity: "High" });
    expect(h.store.record).toBeNull();
    await h.car("A");
    expect(h.events(m)).toEqual(["SessionStarted", "AuthRequired", "Authorized", "SessionFinished"]);
    expect(h.kernel.errors()).toEqual([]);
  });

  test("UNEXPECTED_ERROR with fail_on_powermeter_errors false still starts the transaction", async () => {
    const h = await Harness.start({ config: { fail_on_powermeter_errors: false } });
    h.meter!.startResponse = { status: "UNEXPECTED_ERROR" };
    const m = h.mark();
    await h.startCharging();
    expect(h.events(m)).toEqual(START_EVENTS);
  });

  test("without a meter the transaction starts", async () => {
    const h = await Harness.start({ meter: null });
    const m = h.mark();
    await h.startCharging();
    expect(h.events(m)).toEqual(START_EVENTS);
    await h.car("A");
    expect(h.events(m)).toEqual([...START_EVENTS, ...END_EVENTS]);
  });
});
