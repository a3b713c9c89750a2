// The MQTT bridge's outgoing queue (mqtt/outbox.ts): bounded, newest state per topic, events in
// order up to a limit, then a counted and logged gap.
import { describe, expect, test } from "bun:test";
import { Outbox, type DropReason, type OutMessage } from "../mqtt/outbox.ts";

const msg = (topic: string, payload: string, retain = true): OutMessage => ({ topic, payload, retain, qos: 1 });

function outbox(maxOrdered = 3) {
  const drops: DropReason[] = [];
  const logs: string[] = [];
  const box = new Outbox({ maxOrdered, onDrop: (r) => drops.push(r), log: (l) => logs.push(l) });
  const drain = () => {
    const out: string[] = [];
    for (let q = box.next(); q; q = box.next()) out.push(`${q.msg.topic}=${q.msg.payload}`);
    return out;
  };
  return { box, drops, logs, drain };
}

describe("MQTT outbox", () => {
  test("a newer state supersedes the queued one for the same topic (drop-oldest), counted", () => {
    const { box, drops, drain } = outbox();
    box.putLatest(msg("s", "1"));
    box.putLatest(msg("v", "a"));
    box.putLatest(msg("s", "2"));
    expect(box.size).toBe(2);
    expect(drain()).toEqual(["v=a", "s=2"]);
    expect(drops).toEqual(["superseded"]);
  });

  test("events are kept all and in order, before the state, up to the limit; then dropped, counted and the gap logged once", () => {
    const { box, drops, logs, drain } = outbox(3);
    box.putLatest(msg("status", "x"));
    for (const n of [1, 2, 3, 4, 5]) box.putOrdered(msg("event", String(n), false));
    expect(drops).toEqual(["queue_full", "queue_full"]);
    expect(logs.length).toBe(1);
    expect(drain()).toEqual(["event=1", "event=2", "event=3", "status=x"]);
    box.putOrdered(msg("event", "6", false));
    expect(logs.length).toBe(2);
    expect(logs[1]).toContain("2 messages were dropped");
    expect(drain()).toEqual(["event=6"]);
  });

  test("unacknowledged messages go back in front in their order; a superseded state stays dropped", () => {
    const { box, drops, drain } = outbox(10);
    box.putOrdered(msg("event", "1", false));
    box.putOrdered(msg("event", "2", false));
    box.putLatest(msg("status", "old"));
    const taken = [box.next()!, box.next()!, box.next()!];
    box.putOrdered(msg("event", "3", false));
    box.putLatest(msg("status", "new"));
    box.requeue([taken[2]!, taken[1]!, taken[0]!]);
    expect(drain()).toEqual(["event=1", "event=2", "event=3", "status=new"]);
    expect(drops).toEqual(["superseded"]);
  });

  test("a long run through the ordered queue keeps it compact and in order", () => {
    const { box, drops } = outbox(10_000);
    let expected = 0;
    for (let n = 0; n < 5000; n++) {
      box.putOrdered(msg("e", String(n), false));
      if (n % 3 === 0) expect(box.next()!.msg.payload).toBe(String(expected++));
    }
    while (box.size > 0) expect(box.next()!.msg.payload).toBe(String(expected++));
    expect(expected).toBe(5000);
    expect(drops).toEqual([]);
  });
});
