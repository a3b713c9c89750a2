// Arbitration table of behavior.md §11.1–11.2.
import { describe, expect, test } from "bun:test";
import { EnableDisableTable } from "../core/enable-disable.ts";
import type { EnableDisableSource } from "../core/types/index.ts";

const src = (enable_source: string, enable_state: string, enable_priority: number) =>
  ({ enable_source, enable_state, enable_priority }) as EnableDisableSource;

describe("enable/disable arbitration", () => {
  test("initial table: enabled by {Unspecified, Enable, 10000}", () => {
    const t = new EnableDisableTable();
    expect(t.effective()).toBe(true);
    expect(t.activeSource()).toEqual({ enable_source: "Unspecified", enable_state: "Enable", enable_priority: 10000 });
  });

  test("the smallest priority number wins; Disable wins ties", () => {
    const t = new EnableDisableTable();
    t.apply(0, src("CSMS", "Disable", 100));
    expect(t.effective()).toBe(false);
    t.apply(0, src("LocalAPI", "Enable", 50));
    expect(t.effective()).toBe(true);
    t.apply(0, src("ServiceTechnician", "Disable", 50));
    expect(t.activeSource().enable_source).toBe("ServiceTechnician");
    t.apply(0, src("MobileApp", "Enable", 50));
    expect(t.effective()).toBe(false);
  });

  test("Unassigned rows are skipped; with none assigned the EVSE is enabled by {Unspecified, Unassigned, 10000}", () => {
    const t = new EnableDisableTable();
    t.apply(0, src("Unspecified", "Unassigned", 10000));
    expect(t.effective()).toBe(true);
    expect(t.activeSource()).toEqual({ enable_source: "Unspecified", enable_state: "Unassigned", enable_priority: 10000 });
  });

  test("a call replaces its source's row in place", () => {
    const t = new EnableDisableTable();
    t.apply(0, src("CSMS", "Disable", 100));
    t.apply(0, src("CSMS", "Enable", 100));
    expect(t.effective()).toBe(true);
    expect(t.activeSource()).toEqual({ enable_source: "CSMS", enable_state: "Enable", enable_priority: 100 });
  });

  test("connector 1 sets the connector flag; connector 0 leaves it, so only connector 1 re-enables [Q12]", () => {
    const t = new EnableDisableTable();
    t.apply(1, src("MobileApp", "Disable", 10));
    expect(t.effective()).toBe(false);
    t.apply(0, src("MobileApp", "Enable", 10));
    expect(t.arbitration()).toBe(true);
    expect(t.effective()).toBe(false);
    t.apply(1, src("MobileApp", "Enable", 10));
    expect(t.effective()).toBe(true);
  });

  test("the active source carries exactly the three fields", () => {
    const t = new EnableDisableTable();
    t.apply(0, { ...src("CSMS", "Disable", 1), extra: true } as EnableDisableSource);
    expect(Object.keys(t.activeSource()).sort()).toEqual(["enable_priority", "enable_source", "enable_state"]);
  });
});
