import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { COMMAND_NAMES, VARIABLE_NAMES } from "../core/kernel-api.ts";
import { CAPABILITIES as CAPS, TOKEN_A } from "./kernel-harness.ts";
import {
  COMMAND_ARGS,
  COMMAND_RESULTS,
  ConnectorTypeEnumSchema,
  dateTime,
  EnableDisableSourceSchema,
  EnforcedLimitsSchema,
  EnergySchema,
  EVInfoSchema,
  EvseSchema,
  formatIssues,
  FrequencySchema,
  HardwareCapabilitiesSchema,
  isRfc3339DateTime,
  LimitsSchema,
  parseOrThrow,
  PowermeterSchema,
  ProvidedIdTokenSchema,
  SchemaValidationError,
  SessionEventEnumSchema,
  SessionEventSchema,
  SignedEnergySchema,
  StopTransactionReasonSchema,
  TransactionStartResponseSchema,
  ValidationResultSchema,
  VARIABLE_SCHEMAS,
} from "../core/types/index.ts";

const ok = (schema: v.GenericSchema, x: unknown) => v.safeParse(schema, x).success;

const METER = { timestamp: "2025-01-01T00:00:00.000Z", energy_Wh_import: { total: 0 } };

describe("closed types (additionalProperties: false)", () => {
  test("SessionEvent refuses the HEAD-only charging_paused_evse", () => {
    const base = { uuid: "u", event: "ChargingPausedEVSE", timestamp: "2025-01-01T00:00:00Z" };
    expect(ok(SessionEventSchema, base)).toBe(true);
    expect(ok(SessionEventSchema, { ...base, charging_paused_evse: { reasons: ["UserPause"] } })).toBe(false);
  });

  test("HardwareCapabilities refuses supports_cp_state_E and needs all ten required fields", () => {
    expect(ok(HardwareCapabilitiesSchema, CAPS)).toBe(true);
    expect(ok(HardwareCapabilitiesSchema, { ...CAPS, supports_cp_state_E: true })).toBe(false);
    const { connector_type: _, ...missing } = CAPS;
    expect(ok(HardwareCapabilitiesSchema, missing)).toBe(false);
  });

  test("EVInfo refuses HEAD-only fields and ValidationResult refuses tariff_messages", () => {
    expect(ok(EVInfoSchema, {})).toBe(true);
    expect(ok(EVInfoSchema, { target_energy_request: 1 })).toBe(false);
    expect(ok(ValidationResultSchema, { authorization_status: "Accepted" })).toBe(true);
    expect(ok(ValidationResultSchema, { authorization_status: "Accepted", tariff_messages: [] })).toBe(false);
  });

  test("nested closed objects refuse extra keys too (meter value inside an event)", () => {
    const ev = {
      uuid: "u",
      event: "SessionFinished",
      timestamp: "2025-01-01T00:00:00Z",
      session_finished: { meter_value: { ...METER, energy_Wh_import: { total: 1, L4: 2 } } },
    };
    const r = v.safeParse(SessionEventSchema, ev);
    expect(r.success).toBe(false);
    expect(formatIssues(r.issues!)).toEqual([
      { path: "session_finished.meter_value.energy_Wh_import.L4", message: "unknown key (not allowed here)" },
    ]);
  });
});

describe("open types keep extra keys", () => {
  test("Evse, EnableDisableSource and EnforcedLimits accept and keep unknown properties", () => {
    expect(v.parse(EvseSchema, { id: 1, connectors: [{ id: 1 }], extra: 1 })).toEqual({
      id: 1,
      connectors: [{ id: 1 }],
      extra: 1,
    });
    expect(
      ok(EnableDisableSourceSchema, { enable_source: "CSMS", enable_state: "Enable", enable_priority: 0, x: true }),
    ).toBe(true);
    // A HEAD energy manager adds valid_for: fine; but valid_until is still required.
    expect(ok(EnforcedLimitsSchema, { uuid: "n", valid_until: "2099-01-01T00:00:00Z", valid_for: 10 })).toBe(true);
    expect(ok(EnforcedLimitsSchema, { uuid: "n", valid_for: 10 })).toBe(false);
  });
});

describe("enums are exact at 2025.1.0", () => {
  test("enum strings are case-sensitive and versioned", () => {
    expect(ok(StopTransactionReasonSchema, "DeAuthorized")).toBe(true);
    expect(ok(StopTransactionReasonSchema, "Deauthorized")).toBe(false);
    expect(ok(StopTransactionReasonSchema, "ReqEnergyTransferRejected")).toBe(false); // HEAD only
    expect(ok(ConnectorTypeEnumSchema, "sCEE_7_7")).toBe(true);
    expect(ok(ConnectorTypeEnumSchema, "sCEE-7_7")).toBe(false);
    expect(ok(ConnectorTypeEnumSchema, "cMCS")).toBe(false);
    expect(ok(SessionEventEnumSchema, "WaitingForEnergy")).toBe(true);
    expect(ok(SessionEventEnumSchema, "Charging")).toBe(false);
  });

  test("enum sizes match the tag", () => {
    expect(SessionEventEnumSchema.options.length).toBe(24);
    expect(StopTransactionReasonSchema.options.length).toBe(21);
    expect(ConnectorTypeEnumSchema.options.length).toBe(22);
  });

  test("TransactionStartResponse.status is the string enum, not an object", () => {
    expect(ok(TransactionStartResponseSchema, { status: "OK" })).toBe(true);
    expect(ok(TransactionStartResponseSchema, { status: {} })).toBe(false);
  });
});

describe("integers, ranges and lengths", () => {
  test("integer fields refuse fractions; number fields accept them", () => {
    expect(ok(LimitsSchema, { max_current: 16.5, nr_of_phases_available: 3 })).toBe(true);
    expect(ok(LimitsSchema, { max_current: 16, nr_of_phases_available: 2.5 })).toBe(false);
    expect(ok(LimitsSchema, { max_current: 16, nr_of_phases_available: 4 })).toBe(false);
    expect(ok(LimitsSchema, { max_current: 16, nr_of_phases_available: 0 })).toBe(false);
  });

  test("enable_priority is 0..10000 and Evse.id is 1..128", () => {
    const src = { enable_source: "CSMS", enable_state: "Enable" };
    expect(ok(EnableDisableSourceSchema, { ...src, enable_priority: 0 })).toBe(true);
    expect(ok(EnableDisableSourceSchema, { ...src, enable_priority: 10001 })).toBe(false);
    expect(ok(EnableDisableSourceSchema, { ...src, enable_priority: -1 })).toBe(false);
    expect(ok(EvseSchema, { id: 129, connectors: [{ id: 1 }] })).toBe(false);
    expect(ok(EvseSchema, { id: 1, connectors: [] })).toBe(false);
  });

  test("IdToken value is at most 36 characters; evcc_id must be a colon MAC", () => {
    const long = { ...TOKEN_A, id_token: { value: "x".repeat(37), type: "ISO14443" } };
    expect(ok(ProvidedIdTokenSchema, TOKEN_A)).toBe(true);
    expect(ok(ProvidedIdTokenSchema, long)).toBe(false);
    expect(ok(EVInfoSchema, { evcc_id: "aa:BB:cc:00:11:22" })).toBe(true);
    expect(ok(EVInfoSchema, { evcc_id: "aabbcc001122" })).toBe(false);
    expect(ok(EVInfoSchema, { soc: 101 })).toBe(false);
  });

  test("units require total/L1 but their signed counterparts require nothing", () => {
    expect(ok(EnergySchema, { L1: 1 })).toBe(false);
    expect(ok(FrequencySchema, { L2: 50 })).toBe(false);
    expect(ok(SignedEnergySchema, {})).toBe(true);
  });
});

describe("date-time (RFC 3339)", () => {
  test.each([
    ["2025-01-01T00:00:00Z", true],
    ["2025-01-01T00:00:00.123Z", true],
    ["2025-01-01t00:00:00+02:00", true],
    ["2024-02-29T23:59:60-05:30", true],
    ["2025-02-29T00:00:00Z", false],
    ["2025-01-01T00:00:00", false],
    ["2025-01-01 00:00:00Z", false],
    ["2025-13-01T00:00:00Z", false],
    ["2025-01-01T24:00:00Z", false],
    ["2025-01-01T00:00:00+24:00", false],
    ["1735689600", false],
  ])("%s → %p", (s, expected) => {
    expect(isRfc3339DateTime(s)).toBe(expected);
    expect(ok(dateTime(), s)).toBe(expected);
  });

  test("Powermeter.timestamp must be a date-time", () => {
    expect(ok(PowermeterSchema, METER)).toBe(true);
    expect(ok(PowermeterSchema, { ...METER, timestamp: "yesterday" })).toBe(false);
  });
});

describe("command arguments", () => {
  test("there is one argument schema and one result schema per command, and one schema per variable", () => {
    expect(Object.keys(COMMAND_ARGS).sort()).toEqual([...COMMAND_NAMES].sort());
    expect(Object.keys(COMMAND_RESULTS).sort()).toEqual([...COMMAND_NAMES].sort());
    expect(Object.keys(VARIABLE_SCHEMAS).sort()).toEqual([...VARIABLE_NAMES].sort());
  });

  test("commands without arguments take {} and refuse any key", () => {
    for (const name of ["get_evse", "pause_charging", "set_faulted", "external_ready_to_start_charging"] as const) {
      expect(ok(COMMAND_ARGS[name], {})).toBe(true);
      expect(ok(COMMAND_ARGS[name], { connector_id: 1 })).toBe(false);
    }
  });

  test("every declared argument is mandatory and undeclared ones are refused", () => {
    const cmd_source = { enable_source: "LocalAPI", enable_state: "Disable", enable_priority: 5 };
    expect(ok(COMMAND_ARGS.enable_disable, { connector_id: 0, cmd_source })).toBe(true);
    expect(ok(COMMAND_ARGS.enable_disable, { connector_id: 0 })).toBe(false);
    expect(ok(COMMAND_ARGS.enable_disable, { connector_id: 0, cmd_source, extra: 1 })).toBe(false);
    expect(ok(COMMAND_ARGS.authorize_response, { provided_token: TOKEN_A })).toBe(false);
    expect(
      ok(COMMAND_ARGS.authorize_response, {
        provided_token: TOKEN_A,
        validation_result: { authorization_status: "Accepted" },
      }),
    ).toBe(true);
  });

  test("reserve accepts negative ids; force_unlock needs an integer connector_id", () => {
    expect(ok(COMMAND_ARGS.reserve, { reservation_id: -1 })).toBe(true);
    expect(ok(COMMAND_ARGS.reserve, { reservation_id: 1.5 })).toBe(false);
    expect(ok(COMMAND_ARGS.force_unlock, { connector_id: "1" })).toBe(false);
  });

  test("stop_transaction and set_get_certificate_response validate their nested types", () => {
    expect(ok(COMMAND_ARGS.stop_transaction, { request: { reason: "Local" } })).toBe(true);
    expect(ok(COMMAND_ARGS.stop_transaction, { request: { reason: "local" } })).toBe(false);
    expect(
      ok(COMMAND_ARGS.set_get_certificate_response, {
        certificate_response: { status: "Accepted", certificate_action: "Install", exi_response: "AAAA" },
      }),
    ).toBe(true);
    expect(
      ok(COMMAND_ARGS.set_get_certificate_response, {
        certificate_response: { status: "Accepted", certificate_action: "Delete" },
      }),
    ).toBe(false);
  });
});

describe("error details", () => {
  test("paths use dots for keys and brackets for array indices", () => {
    const r = v.safeParse(COMMAND_ARGS.authorize_response, {
      provided_token: { ...TOKEN_A, id_token: { ...TOKEN_A.id_token, additional_info: [{ value: "a", type: 5 }] } },
      validation_result: {},
    });
    expect(r.success).toBe(false);
    expect(formatIssues(r.issues!)).toEqual([
      { path: "provided_token.id_token.additional_info[0].type", message: "expected string, got 5" },
      { path: "validation_result.authorization_status", message: "is required" },
    ]);
  });

  test("parseOrThrow returns the parsed value or throws with the details", () => {
    expect(parseOrThrow(COMMAND_ARGS.reserve, { reservation_id: 7 })).toEqual({ reservation_id: 7 });
    try {
      parseOrThrow(COMMAND_ARGS.reserve, { reservation_id: 7, x: 1 }, "arguments of reserve");
      throw new Error("not thrown");
    } catch (err) {
      expect(err).toBeInstanceOf(SchemaValidationError);
      expect((err as SchemaValidationError).details).toEqual([{ path: "x", message: "unknown key (not allowed here)" }]);
      expect((err as Error).message).toContain("arguments of reserve");
    }
  });
});
