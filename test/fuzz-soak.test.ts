// The soak run's two parts in small (issue 5 item 5; `npm run soak` does 10,000 sessions): the
// session-event grammar judges orders correctly, and a short run of mixed scenarios through the
// whole in-process stack (real kernel, worker loop, simulated board and car) keeps every order.
import { describe, expect, test } from "bun:test";
import { SessionGrammar } from "../bench/session-grammar.ts";
import { runSoak } from "../bench/soak.ts";

let ms = Date.parse("2025-03-01T12:00:00.000Z");
const ev = (event: string, uuid = "S1") => ({ event, uuid, timestamp: new Date((ms += 10)).toISOString() });

function judge(events: (string | [string, string])[]) {
  const g = new SessionGrammar();
  const done = events.map((e) => (typeof e === "string" ? g.push(ev(e)) : g.push(ev(e[0], e[1])))).filter((d) => d !== null);
  return { done, connector: g.connectorDisorders };
}

const CHARGE = ["SessionStarted", "AuthRequired", "Authorized", "TransactionStarted", "PrepareCharging", "ChargingStarted"];
const END = ["StoppingCharging", "ChargingFinished", "TransactionFinished", "SessionFinished"];

describe("session grammar", () => {
  test("accepts the product sequences of behavior.md §9.2", () => {
    for (const seq of [
      [...CHARGE, ...END],
      ["SessionStarted", "AuthRequired", "SessionFinished"],
      ["SessionStarted", "Authorized", "Deauthorized", "SessionFinished"],
      [...CHARGE, "ChargingPausedEV", "ChargingResumed", ...END],
      [...CHARGE, "ChargingPausedEVSE", "PrepareCharging", "ChargingStarted", ...END],
      [...CHARGE, "StoppingCharging", "ChargingFinished", "TransactionFinished", "Disabled", "SessionFinished"],
    ]) {
      const { done } = judge(seq);
      expect(done.map((d) => d.disorder)).toEqual([null]);
    }
  });

  test("names what is out of order", () => {
    const cases: [string[], string][] = [
      [["SessionStarted", "TransactionStarted", "SessionFinished"], "TransactionStarted before Authorized"],
      [["SessionStarted", "Authorized", "TransactionStarted", "SessionFinished"], "SessionFinished with the transaction still open"],
      [["SessionStarted", "Authorized", "TransactionStarted", "StoppingCharging", "TransactionFinished", "SessionFinished"], "TransactionFinished after StoppingCharging"],
      [["SessionStarted", "Authorized", "TransactionStarted", "ChargingResumed", ...END], "ChargingResumed before ChargingStarted"],
      [["SessionStarted", "ChargingStarted", "SessionFinished"], "ChargingStarted without an open transaction"],
    ];
    for (const [seq, why] of cases) {
      const g = new SessionGrammar();
      let disorder: string | null = null;
      for (const e of seq) disorder = g.push(ev(e))?.disorder ?? disorder;
      if (disorder === null) disorder = "(unfinished)";
      expect(disorder).toContain(why);
    }
  });

  test("a second SessionStarted, a repeated Disabled and a going-back timestamp are disorders", () => {
    const g = new SessionGrammar();
    g.push(ev("SessionStarted", "S1"));
    g.push(ev("SessionStarted", "S2"));
    expect(g.push(ev("SessionFinished", "S2"))?.disorder).toContain("while session S1 is open");
    g.push(ev("Disabled", ""));
    g.push(ev("Disabled", ""));
    g.push({ event: "Enabled", uuid: "", timestamp: "2020-01-01T00:00:00.000Z" });
    expect(g.connectorDisorders).toEqual(["Disabled twice in a row", "timestamp 2020-01-01T00:00:00.000Z goes back"]);
  });
});

test("300 mixed sessions through the whole stack come out in a valid order", async () => {
  const s = await runSoak({ sessions: 300, seed: 5, warmup: 0 });
  expect(s.examples).toEqual([]);
  expect(s.disorders).toBe(0);
  expect(s.stuck).toBe(0);
  expect(s.sessions).toBeGreaterThanOrEqual(300);
  expect(s.dropped_events).toBe(0);
  expect(Object.keys(s.scenarios).length).toBeGreaterThanOrEqual(15);
  expect(s.events_per_session).toBeGreaterThan(5);
}, 60_000);
