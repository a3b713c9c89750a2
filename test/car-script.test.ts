import { describe, expect, test } from "bun:test";
import { type CarCommand, CarScriptError, parseCarScript } from "../sim/car/index.ts";

function refusal(script: string): CarScriptError {
  try {
    parseCarScript(script);
  } catch (e) {
    if (e instanceof CarScriptError) return e;
    throw e;
  }
  throw new Error(`expected "${script}" to be refused`);
}

describe("car-script grammar", () => {
  test("the upstream default script parses into its commands with numeric arguments", () => {
    expect(parseCarScript("sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 30;unplug")).toEqual([
      { command: "sleep", seconds: 1 },
      { command: "iec_wait_pwr_ready" },
      { command: "sleep", seconds: 1 },
      { command: "draw_power_regulated", amps: 16, phases: 3 },
      { command: "sleep", seconds: 30 },
      { command: "unplug" },
    ]);
  });

  test("the whole script is lower-cased before parsing", () => {
    expect(parseCarScript("SLEEP 2;Draw_Power_Fixed 32,1;UNPLUG")).toEqual([
      { command: "sleep", seconds: 2 },
      { command: "draw_power_fixed", amps: 32, phases: 1 },
      { command: "unplug" },
    ]);
  });

  test("newlines (LF, CRLF, CR) separate commands like ';'", () => {
    expect(parseCarScript("sleep 1\niec_wait_pwr_ready\r\npause\runplug")).toEqual([
      { command: "sleep", seconds: 1 },
      { command: "iec_wait_pwr_ready" },
      { command: "pause" },
      { command: "unplug" },
    ]);
  });

  test("commas and spaces are interchangeable argument separators", () => {
    const expected: CarCommand[] = [{ command: "draw_power_regulated", amps: 16, phases: 3 }];
    expect(parseCarScript("draw_power_regulated 16,3")).toEqual(expected);
    expect(parseCarScript("draw_power_regulated 16 3")).toEqual(expected);
    expect(parseCarScript("draw_power_regulated,16,,3")).toEqual(expected);
    expect(parseCarScript("draw_power_regulated 16 , 3")).toEqual(expected);
  });

  test("leading, trailing and repeated white space is ignored", () => {
    expect(parseCarScript("  sleep   1 ;\t unplug  ")).toEqual([{ command: "sleep", seconds: 1 }, { command: "unplug" }]);
  });

  test("empty pieces and a trailing ';' are skipped", () => {
    expect(parseCarScript("pause;;unplug;")).toEqual([{ command: "pause" }, { command: "unplug" }]);
    expect(parseCarScript(";\n;pause; ;\n")).toEqual([{ command: "pause" }]);
  });

  test("fractional, signed and exponent numbers are accepted", () => {
    expect(parseCarScript("sleep 0.3;rcd_current 10.5;rcd_current .2;draw_power_fixed -16 1;sleep 1e1")).toEqual([
      { command: "sleep", seconds: 0.3 },
      { command: "rcd_current", mA: 10.5 },
      { command: "rcd_current", mA: 0.2 },
      { command: "draw_power_fixed", amps: -16, phases: 1 },
      { command: "sleep", seconds: 10 },
    ]);
  });

  test("every accepted command parses with its argument names", () => {
    expect(
      parseCarScript(
        "sleep 1;iec_wait_pwr_ready;draw_power_regulated 16 3;draw_power_fixed 6 1;pause;unplug;error_e;diode_fail;rcd_current 7;set_soc 80",
      ),
    ).toEqual([
      { command: "sleep", seconds: 1 },
      { command: "iec_wait_pwr_ready" },
      { command: "draw_power_regulated", amps: 16, phases: 3 },
      { command: "draw_power_fixed", amps: 6, phases: 1 },
      { command: "pause" },
      { command: "unplug" },
      { command: "error_e" },
      { command: "diode_fail" },
      { command: "rcd_current", mA: 7 },
      { command: "set_soc", percent: 80 },
    ]);
  });
});

describe("car-script refusals", () => {
  test("an unknown command is refused naming it", () => {
    const e = refusal("sleep 1;Fly_Away 3;unplug");
    expect(e.command).toBe("fly_away");
    expect(e.message).toContain("fly_away");
    expect(e.message).toContain("unknown command");
  });

  test("the first bad command in script order is the one reported", () => {
    expect(refusal("sleep x;bogus").command).toBe("sleep");
  });

  test("a wrong argument count is refused naming the command and the counts", () => {
    const few = refusal("draw_power_regulated 16");
    expect(few.command).toBe("draw_power_regulated");
    expect(few.message).toContain("draw_power_regulated");
    expect(few.message).toContain("amps, phases");
    expect(few.message).toContain("got 1");
    expect(refusal("sleep").command).toBe("sleep");
    expect(refusal("sleep 1 2").message).toContain("got 2");
    const extra = refusal("unplug now");
    expect(extra.command).toBe("unplug");
    expect(extra.message).toContain("no arguments");
  });

  test("a non-numeric value where a number is expected is refused naming the argument", () => {
    for (const [script, command, arg] of [
      ["sleep abc", "sleep", "seconds"],
      ["draw_power_regulated sixteen 3", "draw_power_regulated", "amps"],
      ["draw_power_fixed 16 three", "draw_power_fixed", "phases"],
      ["rcd_current 10ma", "rcd_current", "mA".toLowerCase()],
      ["set_soc 50%", "set_soc", "percent"],
      ["sleep 0x10", "sleep", "seconds"],
      ["sleep 1.2.3", "sleep", "seconds"],
      ["sleep infinity", "sleep", "seconds"],
    ] as const) {
      const e = refusal(script);
      expect(e.command).toBe(command);
      expect(e.message).toContain(command);
      expect(e.message.toLowerCase()).toContain(arg.toLowerCase());
      expect(e.message).toContain("number");
    }
  });

  test("a script without any command is refused", () => {
    for (const script of ["", "   ", ";;", "\n;\n", " , "]) {
      const e = refusal(script);
      expect(e.command).toBe("");
      expect(e.message).toContain("no command");
    }
  });

  test("iso_* commands are refused because no ISO 15118 stack is attached", () => {
    for (const name of [
      "iso_wait_slac_matched",
      "iso_start_v2g_session ac",
      "iso_wait_pwm_is_running",
      "iso_draw_power_regulated 16,3",
      "iso_wait_for_stop 20",
    ]) {
      const e = refusal(`sleep 1;${name.toUpperCase()};unplug`);
      const command = name.split(" ")[0] ?? "";
      expect(e.command).toBe(command);
      expect(e.message).toContain(command);
      expect(e.message).toContain("no ISO 15118 stack is attached");
    }
  });

  test("wait_for_real_plugin is refused because it needs a real EV board", () => {
    const e = refusal("wait_for_real_plugin;unplug");
    expect(e.command).toBe("wait_for_real_plugin");
    expect(e.message).toContain("wait_for_real_plugin");
    expect(e.message).toContain("real EV board");
  });

  test("plugin is refused because it needs EvManager's plugin_commands", () => {
    const e = refusal("plugin");
    expect(e.command).toBe("plugin");
    expect(e.message).toContain("plugin_commands");
  });

  test("a refusal is a CarScriptError (an Error) with its name", () => {
    const e = refusal("nope");
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("CarScriptError");
  });
});
