import { afterEach, describe, expect, test } from "bun:test";
import net from "node:net";
import { serve as startHttp, type RunningServer } from "../api/server.ts";
import { harness } from "./api-fakes.ts";
import { openEventStream } from "./helpers/server.ts";

const E = "/api/v1/evses/1";
let server: RunningServer | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

async function serve(h: ReturnType<typeof harness>) {
  server = await startHttp(h.app.fetch, { hostname: "127.0.0.1", port: 0 });
  return `http://127.0.0.1:${server.port}`;
}

describe("HTTP server", () => {
  test("serves JSON routes, bodies and error bodies over a real socket", async () => {
    const h = harness();
    const url = await serve(h);
    const res = await fetch(`${url}${E}/commands/pause_charging`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: true });
    const bad = await fetch(`${url}${E}/commands/pause_charging`, { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" });
    expect(bad.status).toBe(415);
    expect(((await bad.json()) as { error: string }).error).toBe("unsupported_media_type");
  });

  test("a chunked body over 64 KiB is a 413 and does not reach the kernel", async () => {
    const h = harness();
    const url = await serve(h);
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let n = 0; n < 6; n++) c.enqueue(chunk);
        c.close();
      },
    });
    const res = await fetch(`${url}${E}/commands/reserve`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(res.status).toBe(413);
    expect(h.kernel.calls).toEqual([]);
  });

  test("the event stream delivers snapshot and live messages over a real socket", async () => {
    const h = harness();
    h.pubs.publish("evse_id", "DE*1");
    const url = await serve(h);
    const stream = openEventStream(`${url}${E}/events`, null);
    await stream.waitFor((m) => m.event === "evse_id", 2000);
    h.pubs.publish("ready", true);
    const live = await stream.waitFor((m) => m.event === "ready", 2000);
    expect(live).toEqual({ id: 2, event: "ready", data: true });
    stream.close();
  });

  test("a reader that stops reading is closed after too many unsent messages; another reader gets everything", async () => {
    const h = harness({ maxUnsent: 50 });
    const url = await serve(h);
    const port = Number(new URL(url).port);

    const fast = openEventStream(`${url}${E}/events`, "0");
    const stalled = net.connect(port, "127.0.0.1");
    let stalledClosed = false;
    stalled.on("close", () => (stalledClosed = true));
    stalled.on("error", () => {});
    await new Promise<void>((r) => stalled.once("connect", () => r()));
    stalled.write(`GET ${E}/events HTTP/1.1\r\nHost: x\r\n\r\n`);
    stalled.pause(); // never read: the socket buffers fill, then the subscriber queue
    await Bun.sleep(20);
    expect(h.pubs.subscriberCount).toBe(2);

    const big = { blob: "x".repeat(64 * 1024) };
    let published = 0;
    while (h.pubs.subscriberCount === 2 && published < 2000) {
      h.pubs.publish("telemetry", big);
      published++;
      if (published % 10 === 0) await Bun.sleep(1); // let the fast reader and the sockets move
    }
    expect(h.pubs.subscriberCount).toBe(1);
    await fast.waitFor((m) => m.id === published, 5000);
    expect(fast.messages.length).toBe(published);
    // The server ends the stalled connection instead of buffering for it.
    stalled.resume();
    for (let n = 0; n < 100 && !stalledClosed; n++) await Bun.sleep(10);
    expect(stalledClosed).toBe(true);
    fast.close();
  });
});
