import { describe, expect, test } from "bun:test";
import { createLogger, PublicationLog } from "../api/index.ts";

const T0 = Date.parse("2025-03-01T12:00:00Z");

function setup(format: "text" | "json") {
  const lines: string[] = [];
  const logger = createLogger(format, (l) => lines.push(l), () => T0);
  const evse = logger.forEvse(2);
  const pubs = new PublicationLog();
  pubs.onPublish(evse.publication);
  return { lines, evse, pubs };
}

describe("log", () => {
  test("one text line per session event, with the EVSE index and the session uuid", () => {
    const { lines, pubs } = setup("text");
    pubs.publish("session_event", { uuid: "", event: "Enabled" });
    pubs.publish("ready", true);
    pubs.publish("session_event", { uuid: "abc", event: "SessionStarted" });
    expect(lines).toEqual([
      "2025-03-01T12:00:00.000Z evse=2 session=- id=1 session_event Enabled",
      "2025-03-01T12:00:00.000Z evse=2 session=abc id=3 session_event SessionStarted",
    ]);
  });

  test("kernel lines carry the uuid of the running session, and none after it finished", () => {
    const { lines, evse, pubs } = setup("text");
    pubs.publish("session_event", { uuid: "abc", event: "SessionStarted" });
    evse.log("state Idle -> WaitingForAuthentication");
    pubs.publish("session_event", { uuid: "abc", event: "SessionFinished" });
    evse.log("state Finished -> Idle");
    expect(lines[1]).toBe("2025-03-01T12:00:00.000Z evse=2 session=abc state Idle -> WaitingForAuthentication");
    expect(lines[3]).toBe("2025-03-01T12:00:00.000Z evse=2 session=- state Finished -> Idle");
  });

  test("json format writes one parseable object per line with the same fields", () => {
    const { lines, evse, pubs } = setup("json");
    pubs.publish("session_event", { uuid: "abc", event: "TransactionFinished", transaction_finished: { reason: "EVDisconnected" } });
    evse.log("hello");
    expect(JSON.parse(lines[0]!)).toEqual({ ts: "2025-03-01T12:00:00.000Z", evse: 2, session: "abc", id: 1, msg: "session_event TransactionFinished reason=EVDisconnected" });
    expect(JSON.parse(lines[1]!)).toEqual({ ts: "2025-03-01T12:00:00.000Z", evse: 2, session: null, msg: "hello" });
  });
});
