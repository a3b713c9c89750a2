// Reservation id rules of behavior.md §12.
import { describe, expect, test } from "bun:test";
import { Reservation } from "../core/reservation.ts";

describe("reservation ids", () => {
  test("first reservation accepted, same id repeats silently, other ids refused", () => {
    const r = new Reservation();
    expect(r.reserve(9)).toBe("accepted");
    expect(r.reserve(9)).toBe("repeat");
    expect(r.reserve(10)).toBe("refused");
    expect(r.reserve(-1)).toBe("refused");
    expect(r.reservationId).toBe(9);
  });

  test("negative ids are stored as −1 and can be replaced by a specific id", () => {
    const r = new Reservation();
    expect(r.reserve(-7)).toBe("accepted");
    expect(r.reservationId).toBe(-1);
    expect(r.reserve(-1)).toBe("repeat");
    expect(r.reserve(11)).toBe("accepted");
    expect(r.reservationId).toBe(11);
  });

  test("take clears and returns the id", () => {
    const r = new Reservation();
    expect(r.take()).toBeNull();
    r.reserve(4);
    expect(r.take()).toBe(4);
    expect(r.active).toBe(false);
  });
});
