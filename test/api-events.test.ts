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
