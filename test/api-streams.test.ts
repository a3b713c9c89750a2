// Event streams against the real program (a child process), watched from outside: its memory
// (VmRSS in /proc) and its subscriber gauge in /metrics. Readers that never read must be closed
// at the 10,000-message limit with memory bounded; readers that come and go must leave nothing.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import net from "node:net";
import { startServer, type TestServer } from "./helpers/server.ts";

const E = "/api/v1/evses/1";
const PLUG_CHARGE = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000";

const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb) / 1024;
}

async function subscribers(srv: TestServer): Promise<number> {
  const text = await (await srv.fetch("/metrics")).text();
  return Number(/^evse_event_stream_subscribers\{evse="1"\} (\d+)$/m.exec(text)?.[1] ?? NaN);
}

async function until(what: string, ok: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`${what} within ${timeoutMs} ms`);
    await Bun.sleep(50);
  }
}

/** An EnforcedLimits of about 1.5 KB, so each publication is a sizeable SSE message. */
function limits(n: number): string {
  const schedule = Array.from({ length: 12 }, (_, k) => ({
    timestamp: new Date(Date.UTC(2099, 0, 1, k)).toISOString(),
    limits_to_root: { ac_max_current_A: 16 + (n % 8), total_power_W: 11_000 + k },
  }));
  return JSON.stringify({ uuid: `em-${n}`, valid_until: "2099-01-01T00:00:00Z", limits_root_side: { ac_max_current_A: 16 }, schedule });
}

describe("event streams of the running program", () => {
  test("200 readers that never read are closed at the 10,000-message limit and memory stays bounded", async () => {
    const srv = await startServer({ waitReady: true });
    servers.push(srv);
    const pid = srv.proc.pid;
    const base = rssMb(pid);

    let closed = 0;
    const stalled = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const s = net.connect(srv.port, "127.0.0.1");
        s.on("error", () => {});
        s.on("close", () => closed++);
        await new Promise<void>((r) => s.once("connect", () => r()));
        s.write(`GET ${E}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
        s.pause(); // never read
        return s;
      }),
    );
    await until("200 subscribers", async () => (await subscribers(srv)) === 200, 10_000);

    // Publications as fast as a few lanes of enforce_limits can make them.
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
    let sent = 0;
    // About 18 s on a quiet machine; the bound leaves room for a suite running beside it.
    const deadline = Date.now() + 80_000;
    let open = 200;
    const lane = async () => {
      while (open > 0 && Date.now() < deadline) {
        const n = sent++;
        const r = await fetch(`${srv.url}${E}/energy/enforce_limits`, { method: "POST", headers: { "content-type": "application/json" }, body: limits(n) });
        await r.arrayBuffer();
        if (n % 200 === 0) open = await subscribers(srv);
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    clearInterval(sampler);
    open = await subscribers(srv);

    // Every stalled reader was closed by the server, not buffered for.
    expect(open).toBe(0);
    await until("the stalled connections closed", () => closed === 200, 5_000);
    // Far below what buffering 200 x 10,000 messages of 1.5 KB would take (3 GB).
    expect(peak - base).toBeLessThan(400);
    console.log(`stalled readers: ${sent} publications sent; RSS ${base.toFixed(0)} MB -> peak ${peak.toFixed(0)} MB`);
    for (const s of stalled) s.destroy();
    // The server still serves.
    expect((await srv.get("/healthz")).status).toBe(200);
  }, 120_000);

  test("300 readers that come and go while a car charges leave no subscriber and flat memory", async () => {
    const srv = await startServer({ waitReady: true, config: { disable_authentication: true } });
    servers.push(srv);
    const pid = srv.proc.pid;
    const events = srv.events();
    expect((await srv.post(`${E}/sim/car`, { script: PLUG_CHARGE })).status).toBe(202);
    await events.waitFor((m) => m.event === "session_event" && m.data.event === "ChargingStarted", 15_000);

    const comeAndGo = async (count: number) => {
      for (let k = 0; k < count; k += 50) {
        const batch = Array.from({ length: 50 }, () => srv.events({ lastEventId: null }));
        await Promise.all(batch.map((s) => s.waitFor(() => true, 5_000)));
        for (const s of batch) s.close();
      }
    };
    await comeAndGo(50); // warm-up: what the first streams allocate once is not a leak
    await until("warm-up readers gone", async () => (await subscribers(srv)) === 1, 5_000);
    await Bun.sleep(500);
    const before = rssMb(pid);

    await comeAndGo(300);
    // Only the test's own stream is left, at once.
    await until("subscribers back to 1", async () => (await subscribers(srv)) === 1, 3_000);
    const after = rssMb(pid);
    await Bun.sleep(10_000);
    const later = rssMb(pid);
    console.log(`come-and-go readers: RSS ${before.toFixed(1)} -> ${after.toFixed(1)} -> ${later.toFixed(1)} MB (10 s later)`);
    expect(Math.abs(later - after)).toBeLessThan(10);
    expect(later - before).toBeLessThan(30);
    // The car is still charging and the stream that stayed still receives.
    const live = events.messages.length;
    await until("the remaining stream keeps receiving", () => events.messages.length > live, 5_000);
    events.close();
    await until("subscribers back to 0", async () => (await subscribers(srv)) === 0, 3_000);
  }, 60_000);
});
