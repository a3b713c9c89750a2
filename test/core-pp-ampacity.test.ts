// The PP cable limit of behavior.md §7.5.
import { describe, expect, test } from "bun:test";
import { ampacityA, readCableLimitA } from "../core/pp-ampacity.ts";
import { FakeBoard } from "./kernel-harness.ts";

describe("PP ampacity", () => {
  test("each coding maps to its current; 63/70 A is 70 A only on a one-phase board [Q10]", () => {
    expect(ampacityA("None", 3)).toBe(0);
    expect(ampacityA("A_13", 3)).toBe(13);
    expect(ampacityA("A_20", 3)).toBe(20);
    expect(ampacityA("A_32", 3)).toBe(32);
    expect(ampacityA("A_63_3ph_70_1ph", 3)).toBe(63);
    expect(ampacityA("A_63_3ph_70_1ph", undefined)).toBe(63);
    expect(ampacityA("A_63_3ph_70_1ph", 1)).toBe(70);
  });

  test("a failing PP read is 0 A and logged", () => {
    const board = new FakeBoard();
    board.ac_read_pp_ampacity = () => {
      throw new Error("no PP");
    };
    const lines: string[] = [];
    expect(readCableLimitA(board, 3, (l) => lines.push(l))).toBe(0);
    expect(lines).toEqual(["ac_read_pp_ampacity failed: no PP"]);
    expect(readCableLimitA(new FakeBoard(), 3, (l) => lines.push(l))).toBe(32);
  });
});
