// The whole real-time path with real threads: host → worker → simulated board (+ car) → reports
// → events back to the host. These run on the board's real 250 ms clock, so they are kept few.
import { afterEach, describe, expect, test } from "bun:test";
import * as v from "valibot";
import type { BoardInput } from "../core/ports.ts";
import { HardwareCapabilitiesSchema, PowermeterSchema, TelemetrySchema } from "../core/types/index.ts";
import { startBoard, Trip, type BoardHandle } from "../rt-worker/index.ts";
import type { BoardHost } from "../rt-worker/host.ts";
import { spawnThread } from "../rt-worker/prespawn.ts";
import { simulatedBoards } from "../sim/board/boards.ts";

/** The simulated boards, as main.ts wires them. */
const simulator = simulatedBoards(() => spawnThread("sim-board", 0));

const open: BoardHandle[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.stop()));
});

async function start(sim: Record<string, unknown> = {}) {
  const board = (await startBoard({ kind: "sim", index: 1, sim: { seed: 3, ...sim } as any }, { simulator })) as BoardHost;
  open.push(board);
  const inputs: BoardInput[] = [];
  // A minimal kernel: PWM on B, power on C, off on anything else.
  board.onInput((i) => {
    inputs.push(i);
    if (i.kind !== "event") return;
    if (i.event === "B") board.port.pwm_on(26.67);
    if (i.event === "C") board.port.allow_power_on({ allow_power_on: true, reason: "FullPowerCharging" });
    if (i.event === "A") {
      board.port.allow_power_on({ allow_power_on: false, reason: "PowerOff" });
      board.port.pwm_off();
    }
  });
  const events = () => inputs.filter((i) => i.kind === "event").map((i) => (i as any).event as string);
  await until("the first CP event", () => events().length > 0);
  return { board, inputs, events };
}

export async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
}

describe("simulated board end to end", () => {
  test("a car script plugs in and charges: capabilities, A, B, C, PowerOn, valid meter readings", async () => {
    const { board, inputs, events } = await start();
    board.sim!.postScript("iec_wait_pwr_ready;draw_power_regulated 16,3", false);
    await until("PowerOn", () => events().includes("PowerOn"));
    expect(events()).toEqual(["A", "B", "C", "PowerOn"]);
    const caps = inputs.find((i) => i.kind === "capabilities") as any;
    expect(v.safeParse(HardwareCapabilitiesSchema, caps.value).success).toBe(true);
    await until("a meter reading with power", () => inputs.some((i) => i.kind === "powermeter" && (i.value.power_W?.total ?? 0) > 9000));
    for (const i of inputs) {
      if (i.kind === "powermeter") expect(v.safeParse(PowermeterSchema, i.value).issues).toBeUndefined();
      if (i.kind === "telemetry") expect(v.safeParse(TelemetrySchema, i.value).issues).toBeUndefined();
    }
    const s = board.sim!.state();
    expect(s).toMatchObject({ cp_state: "C", relays_closed: true, phases: 3, car: { running: false, script: null, state: "CHARGING_REGULATED" } });
    expect(s.pwm_duty_percent).toBeCloseTo(26.67, 2);
    expect(board.health()).toEqual({ worker_running: true, board_answering: true });
  }, 10_000);

  test("the worker opens the relays by itself when the main thread busy-loops past 1 s", async () => {
    const { board, events } = await start();
    board.sim!.postScript("iec_wait_pwr_ready;draw_power_regulated 16,3", false);
    await until("PowerOn", () => events().includes("PowerOn"));
    busy(1600);
    // Read synchronously, before this thread's heartbeat timer can run again.
    expect(board.sim!.state().relays_closed).toBe(false);
    expect(board.counters().trips).toBeGreaterThan(0);
    // Main is back: the kernel still asks for power, so the relays close again, and the kernel
    // saw the interruption in order.
    await until("PowerOn again", () => events().filter((e) => e === "PowerOn").length === 2);
    expect(events()).toEqual(["A", "B", "C", "PowerOn", "PowerOff", "PowerOn"]);
    expect(board.counters().trip).toBe(Trip.None);
  }, 10_000);

  test("the board's watchdog opens the relays and drives F when the worker dies", async () => {
    const { board, events } = await start();
    board.sim!.postScript("iec_wait_pwr_ready;draw_power_regulated 16,3", false);
    await until("PowerOn", () => events().includes("PowerOn"));
    board.killWorker();
    await until("CP F", () => board.sim!.state().cp_state === "F", 2000);
    expect(board.sim!.state().relays_closed).toBe(false);
    await until("health to notice", () => !board.health().worker_running, 2000);
  }, 10_000);

  test("postScript answers synchronously: bad script, busy car, replace", async () => {
    const { board } = await start();
    expect(() => board.sim!.postScript("frobnicate 3", false)).toThrow(expect.objectContaining({ name: "CarScriptError" }));
    board.sim!.postScript("sleep 30", false);
    expect(board.sim!.state().car).toMatchObject({ running: true, script: "sleep 30" });
    expect(() => board.sim!.postScript("unplug", false)).toThrow(expect.objectContaining({ name: "CarBusyError" }));
    board.sim!.postScript("iec_wait_pwr_ready;sleep 30", true);
    expect(board.sim!.state().car.script).toBe("iec_wait_pwr_ready;sleep 30");
    board.sim!.stopScript();
    expect(board.sim!.state().car).toMatchObject({ running: false, script: null });
  });

  test("ac_read_pp_ampacity answers from the latest report: socket A_20, cable None", async () => {
    const { board } = await start({ connector_type: "IEC62196Type2Socket", pp_resistor_ohm: 680 });
    await until("first report", () => board.health().board_answering);
    expect(board.port.ac_read_pp_ampacity()).toEqual({ ampacity: "A_20" });
    const cable = await start();
    await until("first report", () => cable.board.health().board_answering);
    expect(cable.board.port.ac_read_pp_ampacity()).toEqual({ ampacity: "None" });
  });

  test("weld_relays switched at run time keeps the relays closed after unplug", async () => {
    const { board, events } = await start();
    board.sim!.postScript("iec_wait_pwr_ready;draw_power_regulated 16,3", false);
    await until("PowerOn", () => events().includes("PowerOn"));
    board.sim!.setWeldRelays(true);
    board.sim!.postScript("unplug", true);
    await until("A", () => events().includes("A") && events().lastIndexOf("A") > 0);
    await Bun.sleep(600);
    expect(board.sim!.state().relays_closed).toBe(true);
    board.sim!.setWeldRelays(false);
    await until("PowerOff", () => events().includes("PowerOff"));
    expect(board.sim!.state().relays_closed).toBe(false);
  }, 10_000);
});

test("a real board that is not there: the worker runs, the board is reported not answering, with the HID transport's reason", async () => {
  const board = await startBoard({ kind: "hid", index: 1, hid: { path: "/dev/hidraw-none" } });
  open.push(board);
  expect(board.sim).toBeNull();
  await Bun.sleep(150);
  expect(board.health()).toMatchObject({ worker_running: true, board_answering: false });
  // What /healthz shows beside it: the transport's last error, naming the device.
  expect(board.health().board_error).toStartWith("cannot open HID device /dev/hidraw-none: ");
  expect(board.port.ac_read_pp_ampacity()).toEqual({ ampacity: "None" });
});
