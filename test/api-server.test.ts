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

/** Sends `text` as is on a fresh socket; resolves with what came back once the server closes or goes quiet. */
function raw(port: number, text: string, quietMs = 300): Promise<{ status: number; head: string; body: any; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let out = "";
    let closed = false;
    let timer: ReturnType<typeof setTimeout>;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const [head = "", rest = ""] = out.split("\r\n\r\n", 2);
      let body: any = rest;
      try {
        body = JSON.parse(rest);
      } catch {
        /* not JSON */
      }
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), head, body, closed });
    };
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, quietMs);
    };
    socket.on("data", (d) => {
      out += d;
      quiet();
    });
    socket.on("close", () => {
      closed = true;
      finish();
    });
    socket.on("error", () => {});
    socket.write(text);
    quiet();
  });
}

describe("request target", () => {
  const cmd = `${E}/commands/pause_charging`;

  test("a malformed Host header is a 400 with the contract's error body, never a 500, and routes nothing", async () => {
    const h = harness();
    const port = Number(new URL(await serve(h)).port);
    for (const host of ["x:99999", "a b", "[", `x${cmd}?`, "x, y", "user@x", "x:"]) {
      const r = await raw(port, `POST /healthz HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\n\r\n`);
      expect([host, r.status]).toEqual([host, 400]);
      expect(r.body.error).toBe("invalid_host");
      expect(r.body.message).toBeString();
      expect(r.body.details).toEqual([]);
    }
    expect(h.kernel.calls).toEqual([]);
  });

  test("the path comes from the request line: a Host that looks like a path never selects the route", async () => {
    const h = harness();
    const port = Number(new URL(await serve(h)).port);
    // A valid Host is only the host: the command is not run, /healthz is asked with POST.
    const r = await raw(port, `POST /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 0\r\n\r\n`);
    expect(r.status).toBe(405);
    expect(h.kernel.calls).toEqual([]);
  });

  test("an absolute-form request line is served by its path only, never routed by the host it names", async () => {
    const h = harness();
    const port = Number(new URL(await serve(h)).port);
    const health = await raw(port, `GET http://elsewhere.example/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("ok");
    const post = await raw(port, `POST http://elsewhere.example${cmd} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`);
    expect([200, 400]).toContain(post.status);
    const bare = await raw(port, `GET http://elsewhere.example HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expect(bare.status).toBeLessThan(500);
  });

  test("a malformed request target is a 400, and an HTTP/1.0 request without Host is still served", async () => {
    const h = harness();
    const port = Number(new URL(await serve(h)).port);
    const escape = await raw(port, `GET /api/v1/evses/%zz/vars HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(escape.status).toBe(400);
    expect(escape.body.error).toBe("invalid_target");
    for (const target of ["*", "healthz"]) {
      const r = await raw(port, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(r.status).toBe(400);
    }
    const old = await raw(port, `GET /healthz HTTP/1.0\r\n\r\n`);
    expect(old.status).toBe(200);
    expect(old.body.status).toBe("ok");
  });

  test("the request log records the path of the request line", async () => {
    const h = harness();
    const lines: string[] = [];
    const { createLogger } = await import("../api/index.ts");
    const { createApp } = await import("../api/index.ts");
    const app = createApp({ ...h.ctx, logger: createLogger("text", (l) => lines.push(l)) });
    server = await startHttp(app.fetch, { hostname: "127.0.0.1", port: 0 });
    await raw(server.port, `POST ${cmd} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`);
    await raw(server.port, `POST /api/v1/evses/1/commands/resume_charging HTTP/1.1\r\nHost: x/api/v1/evses/1/commands/pause_charging?\r\nContent-Length: 0\r\n\r\n`);
    expect(lines.filter((l) => l.includes("write "))).toHaveLength(1);
    expect(lines.find((l) => l.includes("write "))).toContain(`write POST ${cmd} -> 200`);
  });
});

describe("request bodies", () => {
  test("a declared body over 64 KiB is a 413 before anything is read, and the connection ends", async () => {
    const h = harness();
    const port = Number(new URL(await serve(h)).port);
    const r = await raw(port, `POST ${E}/commands/reserve HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{"reservation_id":`, 2000);
    expect(r.status).toBe(413);
    expect(r.body.error).toBe("body_too_large");
    expect(r.closed).toBe(true);
    expect(h.kernel.calls).toEqual([]);
  });

  test("after a 401 the server stops reading the body and closes the connection", async () => {
    const h = harness({ token: "s3cret" });
    const port = Number(new URL(await serve(h)).port);
    const socket = net.connect(port, "127.0.0.1");
    let answer = "";
    let closed = false;
    socket.on("data", (d) => (answer += d));
    socket.on("close", () => (closed = true));
    socket.on("error", () => {});
    await new Promise<void>((r) => socket.once("connect", () => r()));
    socket.write(`POST /api/v1/system/update HTTP/1.1\r\nHost: x\r\nContent-Length: 300000000\r\n\r\n`);
    const chunk = Buffer.alloc(1 << 20);
    let sent = 0;
    while (!closed && sent < 300) {
      if (!socket.write(chunk)) await new Promise((r) => setTimeout(r, 20));
      sent++;
      if (sent % 8 === 0) await Bun.sleep(1);
    }
    for (let n = 0; n < 100 && !closed; n++) await Bun.sleep(10);
    expect(answer).toStartWith("HTTP/1.1 401");
    expect(closed).toBe(true);
    // Far less than the 300 MB announced went in before the server hung up.
    expect(sent).toBeLessThan(200);
    socket.destroy();
  });

  test("a number JSON cannot hold (1e400 parses to Infinity) is a 400 naming the field, never applied", async () => {
    const h = harness();
    const url = await serve(h);
    const body = `{"uuid":"em","valid_until":"2099-01-01T00:00:00Z","limits_root_side":{"ac_max_current_A":1e400}}`;
    const res = await fetch(`${url}${E}/energy/enforce_limits`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(res.status).toBe(400);
    const err = (await res.json()) as { error: string; message: string; details: { path: string }[] };
    expect(err.details[0]!.path).toBe("limits_root_side.ac_max_current_A");
    expect(err.message).toContain("limits_root_side.ac_max_current_A");
    expect(h.kernel.limits).toEqual([]);
    const cmd = await fetch(`${url}${E}/commands/reserve`, { method: "POST", body: `{"reservation_id":-1e999}` });
    expect(cmd.status).toBe(400);
    expect(((await cmd.json()) as { details: { path: string }[] }).details[0]!.path).toBe("reservation_id");
    expect(h.kernel.calls).toEqual([]);
  });
});

describe("cross-site requests", () => {
  const cmd = `${E}/commands/withdraw_authorization`;

  test("a write with Sec-Fetch-Site: cross-site or a foreign Origin is a 403 cross_origin and changes nothing", async () => {
    const h = harness();
    const url = await serve(h);
    for (const headers of [
      { "sec-fetch-site": "cross-site" } as Record<string, string>,
      { origin: "http://evil.example" },
      { origin: "null" },
      { origin: `http://127.0.0.1:${Number(new URL(url).port) + 1}` },
      { origin: "http://127.0.0.1.evil.example" },
    ]) {
      for (const method of ["POST", "DELETE"]) {
        const path = method === "POST" ? cmd : `${E}/sim/car`;
        const res = await fetch(url + path, { method, headers: { ...headers, "content-type": "text/plain" }, body: "" });
        expect([JSON.stringify(headers), method, res.status]).toEqual([JSON.stringify(headers), method, 403]);
        expect(((await res.json()) as { error: string }).error).toBe("cross_origin");
      }
    }
    expect(h.kernel.calls).toEqual([]);
  });

  test("the server's own origin, same-origin fetches and requests without Origin are served", async () => {
    const h = harness();
    const url = await serve(h);
    const own = await fetch(url + cmd, { method: "POST", headers: { origin: url, "sec-fetch-site": "same-origin" } });
    expect(own.status).toBe(200);
    const https = await fetch(url + cmd, { method: "POST", headers: { origin: `https://127.0.0.1:${new URL(url).port}` } });
    expect(https.status).toBe(200);
    // Behind a reverse proxy that rewrites Host and says where the browser went.
    const proxied = await fetch(url + cmd, { method: "POST", headers: { origin: "https://charger.example", "x-forwarded-host": "charger.example" } });
    expect(proxied.status).toBe(200);
    const plain = await fetch(url + cmd, { method: "POST" });
    expect(plain.status).toBe(200);
    // Reads are not writes: a cross-site GET answers as usual.
    expect((await fetch(`${url}${E}/vars`, { headers: { origin: "http://evil.example", "sec-fetch-site": "cross-site" } })).status).toBe(200);
    expect(h.kernel.calls.length).toBe(4);
  });

  test("with a token configured, the 401 comes first; with the token, a foreign origin is still a 403", async () => {
    const h = harness({ token: "s3cret" });
    const url = await serve(h);
    const noToken = await fetch(url + cmd, { method: "POST", headers: { origin: "http://evil.example" } });
    expect(noToken.status).toBe(401);
    const withToken = await fetch(url + cmd, { method: "POST", headers: { origin: "http://evil.example", authorization: "Bearer s3cret" } });
    expect(withToken.status).toBe(403);
    expect(((await withToken.json()) as { error: string }).error).toBe("cross_origin");
    expect(h.kernel.calls).toEqual([]);
  });
});

describe("event stream lifetime", () => {
  test("readers that go away release their subscribers at once", async () => {
    const h = harness();
    const url = await serve(h);
    const streams = Array.from({ length: 50 }, () => openEventStream(`${url}${E}/events`, null));
    for (let n = 0; n < 200 && h.pubs.subscriberCount < 50; n++) await Bun.sleep(10);
    expect(h.pubs.subscriberCount).toBe(50);
    for (const s of streams) s.close();
    for (let n = 0; n < 200 && h.pubs.subscriberCount > 0; n++) await Bun.sleep(10);
    expect(h.pubs.subscriberCount).toBe(0);
    // A raw socket that just disappears (no FIN from a client library) is released too.
    const port = Number(new URL(url).port);
    const sockets = Array.from({ length: 20 }, () => {
      const s = net.connect(port, "127.0.0.1");
      s.on("error", () => {});
      s.write(`GET ${E}/events HTTP/1.1\r\nHost: x\r\n\r\n`);
      return s;
    });
    for (let n = 0; n < 200 && h.pubs.subscriberCount < 20; n++) await Bun.sleep(10);
    expect(h.pubs.subscriberCount).toBe(20);
    for (const s of sockets) s.destroy();
    for (let n = 0; n < 200 && h.pubs.subscriberCount > 0; n++) await Bun.sleep(10);
    expect(h.pubs.subscriberCount).toBe(0);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('evse_event_stream_subscribers{evse="1"} 0');
  });

  test("HEAD on the event stream answers its headers and keeps no subscriber", async () => {
    const h = harness();
    const url = await serve(h);
    for (const q of ["", "?types=errors"]) {
      const res = await fetch(`${url}${E}/events${q}`, { method: "HEAD" });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    }
    await Bun.sleep(50);
    expect(h.pubs.subscriberCount).toBe(0);
  });

  test("an idle stream gets a keep-alive comment over a real socket", async () => {
    const h = harness({ keepAliveMs: 50 });
    const url = await serve(h);
    const stream = openEventStream(`${url}${E}/events`, null);
    for (let n = 0; n < 100 && stream.keepAlives < 2; n++) await Bun.sleep(10);
    expect(stream.keepAlives).toBeGreaterThanOrEqual(2);
    stream.close();
  });
});

describe("idle connections", () => {
  test("the idle timeout never cuts an event stream", async () => {
    const h = harness({ keepAliveMs: 400 });
    server = await startHttp(h.app.fetch, { hostname: "127.0.0.1", port: 0, idleTimeoutS: 1 });
    const stream = openEventStream(`http://127.0.0.1:${server.port}${E}/events`, null);
    // Bun's idle timer ticks in steps of about 4 s: a stream under it would be cut by now.
    await Bun.sleep(6000);
    expect(h.pubs.subscriberCount).toBe(1);
    h.pubs.publish("ready", true);
    expect((await stream.waitFor((m) => m.event === "ready", 2000)).data).toBe(true);
    expect(stream.keepAlives).toBeGreaterThanOrEqual(5);
    stream.close();
  }, 15_000);
});
