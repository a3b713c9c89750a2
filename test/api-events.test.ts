import { describe, expect, test } from "bun:test";
import { PublicationLog } from "../api/index.ts";
import { harness } from "./api-fakes.ts";

const E = "/api/v1/evses/1";

/** Reads an SSE body until `done(text)` holds; returns everything read. */
async function readUntil(res: Response, done: (text: string) => boolean): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!done(text)) {
    const { value, done: end } = await reader.read();
    if (end) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}

function messages(text: string): { id: number; event: string; data: unknown }[] {
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("id:"))
    .map((block) => {
      const field = (name: string) => block.split("\n").find((l) => l.startsWith(`${name}: `))!.slice(name.length + 2);
      return { id: Number(field("id")), event: field("event"), data: JSON.parse(field("data")) };
    });
}

describe("publication log", () => {
  test("ids grow by one per publication from 1, and each variable keeps its last value", () => {
    const log = new PublicationLog();
    expect(log.lastId).toBe(0);
    expect(log.publish("evse_id", "X").id).toBe(1);
    expect(log.publish("ready", false).id).toBe(2);
    expect(log.publish("ready", true).id).toBe(3);
    expect(log.value("ready")).toBe(true);
    expect(log.value("limits")).toBeNull();
    expect(Object.keys(log.values()).length).toBe(14);
  });

  test("the snapshot holds one message per variable in ascending id order, the last with the newest id", () => {
    const log = new PublicationLog();
    log.publish("ready", false);
    log.publish("evse_id", "X");
    log.publish("ready", true);
    const snap = log.snapshot();
    expect(snap.map((p) => [p.id, p.name, p.value])).toEqual([
      [2, "evse_id", "X"],
      [3, "ready", true],
    ]);
  });

  test("messages are encoded as id, event and one-line JSON data", () => {
    const log = new PublicationLog();
    const p = log.publish("session_event", { event: "Enabled", message: "two\nlines" });
    expect(p.wire).toBe('id: 1\nevent: session_event\ndata: {"event":"Enabled","message":"two\\nlines"}\n\n');
  });

  test("replay honours ids from 0 while message 1 is buffered, and refuses ids outside the buffer", () => {
    const log = new PublicationLog({ bufferSize: 1000 });
    for (let n = 0; n < 999; n++) log.publish("telemetry", n);
    expect(log.since(0)!.length).toBe(999);
    log.publish("telemetry", 999);
    expect(log.since(0)!.map((p) => p.id)).toEqual(Array.from({ length: 1000 }, (_, k) => k + 1));
    log.publish("telemetry", 1000); // id 1 leaves the buffer
    expect(log.since(0)).toBeNull();
    expect(log.since(1)!.length).toBe(1000);
    expect(log.since(1001)).toEqual([]);
    expect(log.since(1002)).toBeNull();
  });

  test("the default buffer replays at least the last 1000 messages", () => {
    const log = new PublicationLog();
    for (let n = 0; n < 5000; n++) log.publish("telemetry", n);
    expect(log.since(4000)!.length).toBe(1000);
  });

  test("a subscriber gets the replay after Last-Event-ID without a snapshot", () => {
    const log = new PublicationLog();
    log.publish("evse_id", "X");
    log.publish("ready", true);
    log.publish("limits", { max_current: 32 });
    expect(log.subscribe("1").take().map((p) => p.id)).toEqual([2, 3]);
    expect(log.subscribe("3").take()).toEqual([]);
    expect(log.subscribe("0").take().map((p) => p.id)).toEqual([1, 2, 3]);
  });

  test("a subscriber gets a fresh snapshot when Last-Event-ID is missing, not a number, or newer than the newest", () => {
    const log = new PublicationLog();
    log.publish("ready", false);
    log.publish("ready", true);
    for (const id of [undefined, "abc", "-1", "1.5", "99"]) {
      expect(log.subscribe(id).take().map((p) => [p.id, p.name])).toEqual([[2, "ready"]]);
    }
  });

  test("live publications follow the snapshot without a gap and in order", () => {
    const log = new PublicationLog();
    log.publish("ready", false);
    const sub = log.subscribe();
    log.publish("ready", true);
    log.publish("evse_id", "X");
    expect(sub.take().map((p) => p.id)).toEqual([1, 2, 3]);
  });

  test("a reader that falls 10,000 messages behind is closed while the others keep receiving", () => {
    const log = new PublicationLog();
    const slow = log.subscribe();
    const fast = log.subscribe();
    let received = 0;
    for (let n = 0; n < 10_050; n++) {
      log.publish("telemetry", n);
      received += fast.take().length;
    }
    expect(slow.closed).toBe(true);
    expect(slow.reason).toContain("10000");
    expect(fast.closed).toBe(false);
    expect(received).toBe(10_050);
    expect(log.subscriberCount).toBe(1);
  });

  test("observers see every publication after the subscribers", () => {
    const log = new PublicationLog();
    const seen: number[] = [];
    log.onPublish((p) => seen.push(p.id));
    log.publish("ready", true);
    log.publish("ready", false);
    expect(seen).toEqual([1, 2]);
  });
});

describe("event stream over HTTP", () => {
  test("answers text/event-stream with the snapshot, then live publications", async () => {
    const h = harness();
    h.pubs.publish("evse_id", "DE*1");
    h.pubs.publish("ready", true);
    const res = await h.app.request(`${E}/events`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    setTimeout(() => h.pubs.publish("limits", { max_current: 16 }), 5);
    const text = await readUntil(res, (t) => messages(t).length >= 3);
    expect(messages(text)).toEqual([
      { id: 1, event: "evse_id", data: "DE*1" },
      { id: 2, event: "ready", data: true },
      { id: 3, event: "limits", data: { max_current: 16 } },
    ]);
  });

  test("Last-Event-ID replays the missed messages with no snapshot first", async () => {
    const h = harness();
    h.pubs.publish("evse_id", "DE*1");
    h.pubs.publish("ready", false);
    h.pubs.publish("ready", true);
    const res = await h.app.request(`${E}/events`, { headers: { "Last-Event-ID": "2" } });
    setTimeout(() => h.pubs.publish("selected_protocol", "Unknown"), 5);
    const text = await readUntil(res, (t) => messages(t).length >= 2);
    expect(messages(text).map((m) => m.id)).toEqual([3, 4]);
  });

  test("an idle stream carries a keep-alive comment", async () => {
    const h = harness({ keepAliveMs: 5 });
    const res = await h.app.request(`${E}/events`);
    const text = await readUntil(res, (t) => t.includes(": keep-alive\n\n"));
    expect(text).toContain(": keep-alive\n\n");
  });

  test("a closed stream unsubscribes its reader", async () => {
    const h = harness();
    const res = await h.app.request(`${E}/events`);
    await readUntil(res, (t) => t.includes(": connected"));
    await Bun.sleep(1);
    expect(h.pubs.subscriberCount).toBe(0);
  });

  test("an unknown EVSE is a 404, not a stream", async () => {
    const h = harness();
    expect((await h.app.request("/api/v1/evses/3/events")).status).toBe(404);
  });
});

/** Every message of an SSE text, with or without an id (`errors` messages carry none). */
function allMessages(text: string): { id: number | null; event: string; data: unknown }[] {
  return text
    .split("\n\n")
    .filter((block) => /^(id|event):/m.test(block))
    .map((block) => {
      const field = (name: string) => block.split("\n").find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
      const id = field("id");
      return { id: id === undefined ? null : Number(id), event: field("event")!, data: JSON.parse(field("data")!) };
    });
}

describe("event stream filter (?types=)", () => {
  test("sends only the named variables, snapshot and live, keeping the publication ids", async () => {
    const h = harness();
    h.pubs.publish("evse_id", "DE*1");
    h.pubs.publish("session_event", { event: "Enabled" });
    h.pubs.publish("powermeter", { energy_Wh_import: { total: 1 } });
    const res = await h.app.request(`${E}/events?types=session_event,limits`);
    expect(res.status).toBe(200);
    setTimeout(() => {
      h.pubs.publish("powermeter", { energy_Wh_import: { total: 2 } });
      h.pubs.publish("telemetry", { temperature: 30 });
      h.pubs.publish("limits", { max_current: 16 });
      h.pubs.publish("session_event", { event: "SessionStarted" });
    }, 5);
    const text = await readUntil(res, (t) => messages(t).length >= 3);
    expect(messages(text)).toEqual([
      { id: 2, event: "session_event", data: { event: "Enabled" } },
      { id: 6, event: "limits", data: { max_current: 16 } },
      { id: 7, event: "session_event", data: { event: "SessionStarted" } },
    ]);
  });

  test("a replay after Last-Event-ID is filtered too", async () => {
    const h = harness();
    h.pubs.publish("session_event", { event: "Enabled" });
    h.pubs.publish("powermeter", {});
    h.pubs.publish("session_event", { event: "SessionStarted" });
    h.pubs.publish("telemetry", {});
    const res = await h.app.request(`${E}/events?types=session_event`, { headers: { "Last-Event-ID": "1" } });
    setTimeout(() => h.pubs.publish("session_event", { event: "AuthRequired" }), 5);
    const text = await readUntil(res, (t) => messages(t).length >= 2);
    expect(messages(text).map((m) => m.id)).toEqual([3, 5]);
  });

  test("an unknown name is a 400 that names it; an empty list is a 400 too", async () => {
    const h = harness();
    const res = await h.app.request(`${E}/events?types=session_event,bogus,powermeter2`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; message: string; details: { path: string }[] };
    expect(body.error).toBe("invalid_query");
    expect(body.message).toContain('"bogus"');
    expect(body.message).toContain('"powermeter2"');
    expect(body.details[0]!.path).toBe("types");
    expect(h.pubs.subscriberCount).toBe(0);
    const empty = await h.app.request(`${E}/events?types=`);
    expect(empty.status).toBe(400);
  });

  test("errors: the active-error list on connect and on every change, without an id", async () => {
    const h = harness();
    h.pubs.publish("session_event", { event: "Enabled" });
    h.pubs.publish("powermeter", {});
    const res = await h.app.request(`${E}/events?types=errors,session_event`);
    const fault = { type: "evse_board_support/DiodeFault", sub_type: "", message: "CP diode fault", severity: "High" as const, state: "Active" as const, timestamp: "2025-01-01T00:00:00.000Z", uuid: "u1" };
    setTimeout(() => {
      h.kernel.activeErrors = [fault];
    }, 20);
    const text = await readUntil(res, (t) => allMessages(t).filter((m) => m.event === "errors").length >= 2);
    expect(allMessages(text)).toEqual([
      { id: 1, event: "session_event", data: { event: "Enabled" } },
      { id: null, event: "errors", data: [] },
      { id: null, event: "errors", data: [fault] },
    ]);
  });

  test("without types the stream is the contract's: every variable, no errors messages", async () => {
    const h = harness();
    h.kernel.activeErrors = [{ type: "evse_manager/Inoperative", sub_type: "", message: "x", severity: "High", state: "Active", timestamp: "2025-01-01T00:00:00.000Z", uuid: "u" }];
    h.pubs.publish("evse_id", "DE*1");
    const res = await h.app.request(`${E}/events`, { headers: {} });
    setTimeout(() => h.pubs.publish("telemetry", {}), 300);
    const text = await readUntil(res, (t) => messages(t).length >= 2);
    expect(allMessages(text).map((m) => m.event)).toEqual(["evse_id", "telemetry"]);
  });
});

describe("event stream filter against the real program", () => {
  test("session events and errors only: a diode fault while charging arrives as an errors message with its description", async () => {
    const { startServer } = await import("./helpers/server.ts");
    const srv = await startServer({ waitReady: true, config: { disable_authentication: true } });
    try {
      const res = await fetch(`${srv.url}${E}/events?types=session_event,errors`);
      expect(res.status).toBe(200);
      const seen: { id: number | null; event: string; data: unknown }[] = [];
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = "";
      const until = async (pred: () => boolean, ms = 15_000) => {
        const end = Date.now() + ms;
        while (!pred()) {
          if (Date.now() > end) throw new Error(`timed out; saw ${JSON.stringify(seen.map((m) => m.event))}`);
          const { value, done } = await reader.read();
          if (done) throw new Error("stream ended");
          text += decoder.decode(value, { stream: true });
          seen.splice(0, seen.length, ...allMessages(text));
        }
      };
      await until(() => seen.some((m) => m.event === "errors"));
      await srv.post(`${E}/sim/car`, { script: "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 2;diode_fail;sleep 36000" });
      await until(() => seen.some((m) => m.event === "session_event" && (m.data as { event: string }).event === "ChargingStarted"));
      await until(() => seen.some((m) => m.event === "errors" && (m.data as unknown[]).length > 0));
      expect(new Set(seen.map((m) => m.event))).toEqual(new Set(["session_event", "errors"]));
      const errors = seen.filter((m) => m.event === "errors").at(-1)!.data as { type: string; message: string }[];
      expect(errors.some((e) => /Diode/i.test(e.type) && e.message.length > 0)).toBe(true);
      await reader.cancel();
    } finally {
      await srv.stop();
    }
  }, 40_000);
});
