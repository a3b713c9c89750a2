import { afterAll, describe, expect, test } from "bun:test";
import type { BoardOptions, SimOptions } from "../rt-worker/board-handle.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConfigError,
  defaultEvseConfig,
  EVSE_MANAGER_OPTION_NAMES,
  parseConfig,
} from "../core/config/index.ts";
import { loadConfigFile } from "../api/config-file.ts";

function configError(raw: unknown): ConfigError {
  try {
    parseConfig(raw, "test.yaml");
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("parseConfig accepted the configuration");
}

/** Configuration files of the file-loading tests, in one directory removed at the end. */
const dir = mkdtempSync(join(tmpdir(), "evse-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("defaults", () => {
  test("no config gives one EVSE with the behavior.md §15 defaults and the global defaults", () => {
    const cfg = parseConfig({}, "<defaults>");
    expect(cfg.api).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(cfg.board).toBe("sim");
    expect(cfg.storage.path).toBe("evse-manager.sqlite");
    expect(cfg.log_format).toBe("text");
    expect(cfg.evses).toHaveLength(1);
    expect(cfg.evses[0]).toEqual(defaultEvseConfig());
  });

  test("the 52 EvseManager options have their manifest defaults", () => {
    expect(EVSE_MANAGER_OPTION_NAMES).toHaveLength(52);
    const d = defaultEvseConfig();
    expect(d.connector_id).toBe(1);
    expect(d.connector_type).toBe("Unknown");
    expect(d.evse_id).toBe("DE*PNX*E1234567*1");
    expect(d.ac_nominal_voltage).toBe(230);
    expect(d.max_current_import_A).toBe(32);
    expect(d.charge_mode).toBe("AC");
    expect(d.ac_hlc_use_5percent).toBe(false);
    expect(d.soft_over_current_tolerance_percent).toBe(10);
    expect(d.soft_over_current_measurement_noise_A).toBe(0.5);
    expect(d.soft_over_current_timeout_ms).toBe(7000);
    expect(d.initial_meter_value_timeout_ms).toBe(5000);
    expect(d.switch_3ph1ph_delay_s).toBe(10);
    expect(d.switch_3ph1ph_cp_state).toBe("X1");
    expect(d.state_F_after_fault_ms).toBe(300);
    expect(d.lock_connector_in_state_b).toBe(true);
    expect(d.has_ventilation).toBe(true);
    expect(d.fail_on_powermeter_errors).toBe(true);
    expect(d.disable_authentication).toBe(false);
    expect(d.external_ready_to_start_charging).toBe(false);
    expect(d.uk_smartcharging_random_delay_max_duration).toBe(600);
    expect(d.sae_j2847_2_bpt_mode).toBe("V2G");
    expect(d.logfile_suffix).toBe("session_uuid");
  });

  test("sim options default to simulation.md §5 item 6", () => {
    expect(defaultEvseConfig().sim).toEqual({
      max_current_A_import: 32,
      connector_type: "IEC62196Type2Cable",
      pp_resistor_ohm: 220.1,
      keep_plug_state_across_restart: false,
      weld_relays: false,
    });
  });

  test("an empty YAML document (null) counts as no options", () => {
    expect(parseConfig(null, "empty.yaml")).toEqual(parseConfig({}, "<defaults>"));
  });

  test("defaultEvseConfig returns a fresh object each time", () => {
    const a = defaultEvseConfig();
    a.sim.weld_relays = true;
    expect(defaultEvseConfig().sim.weld_relays).toBe(false);
  });
});

describe("layout", () => {
  test("EvseManager options are top-level keys without evses:", () => {
    const cfg = parseConfig({ disable_authentication: true, max_current_import_A: 16, board: "hid" }, "f");
    expect(cfg.evses[0]!.disable_authentication).toBe(true);
    expect(cfg.evses[0]!.max_current_import_A).toBe(16);
    expect(cfg.board).toBe("hid");
  });

  test("a dotted name stands for nested maps, at the top and inside evses items", () => {
    const dotted = parseConfig({ "api.token": "s3cret", "sim.pp_resistor_ohm": 680, "storage.path": ":memory:" }, "f");
    const nested = parseConfig({ api: { token: "s3cret" }, sim: { pp_resistor_ohm: 680 }, storage: { path: ":memory:" } }, "f");
    expect(dotted).toEqual(nested);
    expect(dotted.api.token).toBe("s3cret");
    expect(dotted.evses[0]!.sim.pp_resistor_ohm).toBe(680);
    const multi = parseConfig({ evses: [{ "sim.connector_type": "IEC62196Type2Socket" }] }, "f");
    expect(multi.evses[0]!.sim.connector_type).toBe("IEC62196Type2Socket");
  });

  test("dotted and nested spellings of different keys merge", () => {
    const cfg = parseConfig({ "sim.weld_relays": true, sim: { pp_resistor_ohm: 1500 } }, "f");
    expect(cfg.evses[0]!.sim).toMatchObject({ weld_relays: true, pp_resistor_ohm: 1500 });
  });

  test("the same key given dotted and nested is an error naming it", () => {
    const err = configError({ "sim.weld_relays": true, sim: { weld_relays: false } });
    expect(err.path).toBe("sim.weld_relays");
  });

  test("an evses list configures several EVSEs, each with its own defaults", () => {
    const cfg = parseConfig(
      { "api.port": 9000, evses: [{ evse_id: "A*1" }, { evse_id: "B*1", connector_id: 2, sim: { weld_relays: true } }] },
      "f",
    );
    expect(cfg.api.port).toBe(9000);
    expect(cfg.evses.map((e) => e.evse_id)).toEqual(["A*1", "B*1"]);
    expect(cfg.evses[1]!.connector_id).toBe(2);
    expect(cfg.evses[0]!.sim.weld_relays).toBe(false);
    expect(cfg.evses[1]!.sim.weld_relays).toBe(true);
    expect(cfg.evses[0]!.max_current_import_A).toBe(32);
  });

  test("an empty evses list is refused", () => {
    expect(configError({ evses: [] }).path).toBe("evses");
  });

  test("with evses:, an EVSE option at the top level is refused and the message says where it belongs", () => {
    const err = configError({ evses: [{}], disable_authentication: true });
    expect(err.path).toBe("disable_authentication");
    expect(err.message).toContain("evses");
  });

  test("an empty api.token counts as not set", () => {
    expect(parseConfig({ api: { token: "" } }, "f").api.token).toBeUndefined();
  });

  test("a document that is not a mapping is refused", () => {
    expect(configError([1, 2]).message).toContain("test.yaml");
    expect(configError("text").path).toBe("");
  });
});

describe("validation errors name the file, the key path and the problem", () => {
  test("unknown key", () => {
    const err = configError({ disable_authentification: true });
    expect(err.file).toBe("test.yaml");
    expect(err.path).toBe("disable_authentification");
    expect(err.message).toContain("test.yaml");
    expect(err.message).toContain("disable_authentification");
    expect(err.message).toContain("not a known option");
  });

  test("options of later versions are unknown keys", () => {
    for (const key of ["raise_mrec9", "session_id_type", "inoperative_error_use_vendor_id"]) {
      expect(configError({ [key]: true }).path).toBe(key);
    }
  });

  test("unknown keys inside nested maps and list items carry the full path", () => {
    expect(configError({ sim: { colour: "red" } }).path).toBe("sim.colour");
    expect(configError({ api: { tokn: "x" } }).path).toBe("api.tokn");
    expect(configError({ evses: [{}, { sim: { pp_resistor: 1 } }] }).path).toBe("evses[1].sim.pp_resistor");
  });

  test("a wrong type inside an evses item names the item", () => {
    const err = configError({ evses: [{}, { sim: { pp_resistor_ohm: "big" } }] });
    expect(err.path).toBe("evses[1].sim.pp_resistor_ohm");
    expect(err.message).toContain("evses[1].sim.pp_resistor_ohm");
  });

  test("charge_mode DC is refused", () => {
    const err = configError({ charge_mode: "DC" });
    expect(err.path).toBe("charge_mode");
    expect(err.message).toContain("DC");
    expect(parseConfig({ charge_mode: "AC" }, "f").evses[0]!.charge_mode).toBe("AC");
  });

  test("soft_over_current_timeout_ms below 6000 is refused, 6000 is accepted", () => {
    expect(configError({ soft_over_current_timeout_ms: 5999 }).path).toBe("soft_over_current_timeout_ms");
    expect(parseConfig({ soft_over_current_timeout_ms: 6000 }, "f").evses[0]!.soft_over_current_timeout_ms).toBe(6000);
  });

  test("integer options refuse fractions and strings", () => {
    expect(configError({ state_F_after_fault_ms: 1.5 }).path).toBe("state_F_after_fault_ms");
    expect(configError({ connector_id: "1" }).path).toBe("connector_id");
    expect(configError({ connector_id: 129 }).path).toBe("connector_id");
  });

  test("enumerated options refuse other strings", () => {
    expect(configError({ board: "usb" }).path).toBe("board");
    expect(configError({ log_format: "xml" }).path).toBe("log_format");
    expect(configError({ switch_3ph1ph_cp_state: "E" }).path).toBe("switch_3ph1ph_cp_state");
    expect(configError({ sim: { connector_type: "IEC62196Type1" } }).path).toBe("sim.connector_type");
  });

  test("a null value (empty YAML value) is a type error, not a default", () => {
    expect(configError({ evse_id: null }).path).toBe("evse_id");
  });

  test("connector_type is a free string (get_evse omits an invalid one)", () => {
    expect(parseConfig({ connector_type: "NotAType" }, "f").evses[0]!.connector_type).toBe("NotAType");
  });

  test("HLC and DC options are accepted", () => {
    const cfg = parseConfig({ ac_hlc_enabled: true, dc_isolation_voltage_V: 500, sae_j2847_2_bpt_mode: "V2H" }, "f");
    expect(cfg.evses[0]!.ac_hlc_enabled).toBe(true);
    expect(cfg.evses[0]!.dc_isolation_voltage_V).toBe(500);
  });

  test("every problem is listed, the first one is .path", () => {
    const err = configError({ charge_mode: "DC", bogus: 1 });
    expect(err.problems.map((p) => p.path).sort()).toEqual(["bogus", "charge_mode"]);
    expect(err.message).toContain("bogus");
    expect(err.message).toContain("charge_mode");
  });
});

describe("loading files", () => {

  test("reads YAML with nested and dotted keys", () => {
    const p = file("a.yaml", "disable_authentication: true\nsim.pp_resistor_ohm: 680\napi:\n  port: 8181\n");
    const cfg = loadConfigFile(p);
    expect(cfg.evses[0]!.disable_authentication).toBe(true);
    expect(cfg.evses[0]!.sim.pp_resistor_ohm).toBe(680);
    expect(cfg.api.port).toBe(8181);
  });

  test("reads JSON (valid YAML)", () => {
    const p = file("b.json", JSON.stringify({ evses: [{ evse_id: "X" }, { evse_id: "Y" }] }));
    expect(loadConfigFile(p).evses.map((e) => e.evse_id)).toEqual(["X", "Y"]);
  });

  test("an empty file gives the defaults", () => {
    expect(loadConfigFile(file("empty.yaml", ""))).toEqual(parseConfig({}, "<defaults>"));
  });

  test("a missing file is a ConfigError naming the file", () => {
    const p = join(dir, "nope.yaml");
    expect(() => loadConfigFile(p)).toThrow(ConfigError);
    expect(() => loadConfigFile(p)).toThrow(p);
  });

  test("broken YAML is a ConfigError naming the file", () => {
    const p = file("bad.yaml", "a: [1, 2\nb: }");
    expect(() => loadConfigFile(p)).toThrow(ConfigError);
    expect(() => loadConfigFile(p)).toThrow(p);
  });

  test("a duplicate key in YAML is refused", () => {
    const p = file("dup.yaml", "evse_id: a\nevse_id: b\n");
    expect(() => loadConfigFile(p)).toThrow(ConfigError);
  });

  test("a validation error from a file names that file", () => {
    const p = file("dc.yaml", "charge_mode: DC\n");
    try {
      loadConfigFile(p);
      throw new Error("not thrown");
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).file).toBe(p);
      expect((err as ConfigError).path).toBe("charge_mode");
      expect((err as Error).message).toContain(p);
    }
  });
});

describe("contract with the board", () => {
  test("the sim section of an EVSE config is usable as BoardOptions.sim", () => {
    const sim: SimOptions = defaultEvseConfig().sim; // compile-time check; runtime sanity below
    const hid: NonNullable<BoardOptions["hid"]> = parseConfig({ hid: { vendor_id: 0x1234 } }, "f").evses[0]!.hid;
    expect(sim.max_current_A_import).toBe(32);
    expect(hid.vendor_id).toBe(0x1234);
  });
});

describe("hostile input", () => {
  test("a __proto__ key is an unknown option, not a prototype change", () => {
    const raw = JSON.parse('{"__proto__": {"disable_authentication": true}}');
    expect(configError(raw).path).toBe("__proto__");
  });
});

describe("local control and site options (integration.md §2, §6)", () => {
  test("defaults: priority 100, failsafe off with 6 A, no site limit", () => {
    const cfg = parseConfig({}, "f");
    expect(cfg.control).toEqual({ enable_priority: 100, failsafe_timeout_s: 0, failsafe_current_A: 6 });
    expect(cfg.site).toEqual({});
  });

  test("global with an evses list, dotted or nested", () => {
    const cfg = parseConfig({ "control.failsafe_timeout_s": 30, control: { failsafe_current_A: 0 }, site: { max_current_A: 32 }, evses: [{}, {}] }, "f");
    expect(cfg.control).toEqual({ enable_priority: 100, failsafe_timeout_s: 30, failsafe_current_A: 0 });
    expect(cfg.site.max_current_A).toBe(32);
  });

  test("bad values and unknown keys name the key path", () => {
    expect(configError({ control: { failsafe_current_A: 3 } }).path).toBe("control.failsafe_current_A");
    expect(configError({ control: { failsafe_timeout_s: -1 } }).path).toBe("control.failsafe_timeout_s");
    expect(configError({ control: { enable_priority: 10001 } }).path).toBe("control.enable_priority");
    expect(configError({ control: { heartbeat: 1 } }).path).toBe("control.heartbeat");
    expect(configError({ site: { max_current_A: 4 } }).path).toBe("site.max_current_A");
    expect(configError({ site: { meter: "x" } }).path).toBe("site.meter");
    expect(configError({ evses: [{ site: { max_current_A: 32 } }] }).path).toBe("evses[0].site");
  });
});

describe("JSON configuration files (read without the YAML parser)", () => {

  test("a JSON file gives the same configuration as the YAML parser reads from it", () => {
    const text = JSON.stringify({ api: { port: 8123, host: "127.0.0.1" }, evses: [{ evse_id: "DE*A*1", sim: { max_current_A_import: 16 } }, {}], site: { max_current_A: 40 } }, null, 2);
    const yaml = require("yaml") as typeof import("yaml");
    expect(loadConfigFile(file("c.json", text))).toEqual(parseConfig(yaml.parse(text), "c.json"));
  });

  test("a repeated key is refused with its path and line, at any depth, as the YAML parser refuses it", () => {
    const cases: [string, string, number][] = [
      ['{"api": {"port": 1}, "api": {"port": 2}}', "api", 1],
      ['{\n  "api": {\n    "port": 8080,\n    "host": "::1",\n    "port": 8081\n  }\n}', "api.port", 5],
      ['{"evses": [{"evse_id": "a"}, {"evse_id": "b", "sim": {}, "evse_id": "c"}]}', "evses[1].evse_id", 1],
      ['{"evses": [{}], "evse\\u005fid": "x", "evse_id": "y"}', "evse_id", 1],
    ];
    for (const [text, path, line] of cases) {
      const p = file("dup.json", text);
      const err = (() => {
        try {
          loadConfigFile(p);
        } catch (e) {
          return e as ConfigError;
        }
        throw new Error(`not refused: ${text}`);
      })();
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.path).toBe(path);
      expect(err.message).toContain(`given twice (the second time on line ${line})`);
      expect(() => (require("yaml") as typeof import("yaml")).parse(text)).toThrow();
    }
  });

  test("equal keys in different objects, keys inside strings and escaped quotes are not repeats", () => {
    const text = '{"evses": [{"evse_id": "a \\"evse_id\\": b"}, {"evse_id": "c"}], "api": {"token": "{\\"port\\":1,"}}';
    const config = loadConfigFile(file("ok.json", text));
    expect(config.evses.map((e) => e.evse_id)).toEqual(['a "evse_id": b', "c"]);
    expect(config.api.token).toBe('{"port":1,');
  });

  test("text that is not JSON is still read as YAML, including YAML's flow style", () => {
    expect(loadConfigFile(file("flow.yaml", "{api: {port: 8124}}")).api.port).toBe(8124);
    expect(() => loadConfigFile(file("bad.json", '{"api": {"port": 1}'))).toThrow(/not valid YAML/);
  });
});
