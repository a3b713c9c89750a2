// Pure parts of the MQTT bridge: Home Assistant discovery payloads and the plain control values.
import { describe, expect, test } from "bun:test";
import { controlBodyOf } from "../mqtt/control-values.ts";
import { discoveryConfigs, evseIndexOfObjectId, slug } from "../mqtt/discovery.ts";
import { ApiError } from "../api/errors.ts";

const OPTIONS = { discoveryPrefix: "homeassistant", prefix: "evse-manager/gw1", nodeId: slug("evse-manager/gw1"), version: "1.0.0" };

describe("Home Assistant discovery payloads", () => {
  test("a board that cannot switch phases gets no phase select; the number's maximum is the hardware's", () => {
    const configs = discoveryConfigs({ index: 2, evseId: "DE*X*E2", canSwitchPhases: false, maxCurrentA: 16 }, OPTIONS);
    expect(configs.some((c) => c.topic.includes("/select/"))).toBe(false);
    const number = configs.find((c) => c.topic.includes("/number/"))!;
    expect(number.topic).toBe("homeassistant/number/evse-manager_gw1/evse2_max_current/config");
    expect(number.config).toMatchObject({ min: 0, max: 16, command_topic: "evse-manager/gw1/evse/2/control/max_current_A/set" });
    expect(configs.every((c) => evseIndexOfObjectId(c.topic.split("/")[3]!) === 2)).toBe(true);
  });

  test("every entity names its device, a unique id and the availability topic", () => {
    const configs = discoveryConfigs({ index: 1, evseId: "DE*X*E1", canSwitchPhases: true, maxCurrentA: 32 }, OPTIONS);
    expect(configs.length).toBe(18);
    for (const { config } of configs) {
      expect(config.availability_topic).toBe("evse-manager/gw1/availability");
      expect((config.device as { identifiers: string[] }).identifiers).toContain("DE*X*E1");
      expect(config.unique_id).toMatch(/^evse-manager_gw1_evse1_/);
    }
  });

  test("the state enum lists exactly the kernel's EvseState values (SwitchPhases, not the event name SwitchingPhases)", () => {
    const state = discoveryConfigs({ index: 1, evseId: "DE*X*E1", canSwitchPhases: true, maxCurrentA: 32 }, OPTIONS).find((c) => c.topic.endsWith("/evse1_state/config"))!;
    expect(state.config.options).toContain("SwitchPhases");
    expect(state.config.options).not.toContain("SwitchingPhases");
    expect(new Set(state.config.options as string[]).size).toBe(14);
  });

  test("node and object ids use only the characters HA allows", () => {
    expect(slug("evse-manager/my.host name")).toBe("evse-manager_my_host_name");
    expect(evseIndexOfObjectId("evse12_power")).toBe(12);
    expect(evseIndexOfObjectId("other_power")).toBeNull();
  });
});

describe("plain control values", () => {
  test("enabled accepts true/false/ON/OFF in any case; numbers for the current and phases", () => {
    for (const on of ["true", "ON", "on", '"ON"']) expect(controlBodyOf("enabled", on)).toEqual({ enabled: true });
    for (const off of ["false", "OFF", " off\n"]) expect(controlBodyOf("enabled", off)).toEqual({ enabled: false });
    expect(controlBodyOf("max_current_A", "10.5")).toEqual({ max_current_A: 10.5 });
    expect(controlBodyOf("phases", "1")).toEqual({ phases: 1 });
  });

  test("anything else is a 400 naming the field", () => {
    for (const [field, value] of [["enabled", "yes"], ["max_current_A", ""], ["max_current_A", "ten"], ["phases", "1p"]] as const) {
      let err: unknown;
      try {
        controlBodyOf(field, value);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(400);
      expect((err as ApiError).details[0]!.path).toBe(field);
    }
    let huge: unknown;
    try {
      controlBodyOf("max_current_A", "x".repeat(100_000));
    } catch (e) {
      huge = e;
    }
    expect((huge as ApiError).message.length).toBeLessThan(200);
  });
});
