// /metrics: Prometheus text exposition (0.0.4) with the families http-api.md asks for, read by a
// strict parser; the real-time reaction latency measured by the worker loop; a real session.
import { describe, expect, test } from "bun:test";
import { Metrics } from "../api/index.ts";
import { RtLoop } from "../rt-worker/rt-loop.ts";
import { CpMode, emptyState, encodeState, StateFlag } from "../board-protocol/index.ts";
import { defaultRequested, Shm } from "../rt-worker/shm-layout.ts";
import type { Transport, TransportSink } from "../rt-worker/transport/transport.ts";
import { harness } from "./api-fakes.ts";
import { parsePrometheus, sampleValue } from "./helpers/prometheus.ts";
const REQUIRED: [string, string][] = [
  ["evse_sessions_started_total", "counter"],
  ["evse_sessions_finished_total", "counter"],
  ["evse_energy_delivered_wh_total", "counter"],
  ["evse_relay_switches_total", "counter"],
  ["evse_api_requests_total", "counter"],
  ["evse_api_request_duration_seconds", "histogram"],
  ["evse_rt_reaction_latency_seconds", "histogram"],
  ["evse_board_reports_total", "counter"],
  ["evse_board_report_rate_hz", "gauge"],
];

const meterAt = (wh: number) => ({ meter_value: { timestamp: "2025-01-01T00:00:00Z", energy_Wh_import: { total: wh } } });

describe("GET /metrics", () => {
  test("renders every required family in valid exposition format, with the session, energy and worker numbers", async () => {
    let t = 0;
    const h = harness();
    const metrics = new Metrics(() => t);
    h.ctx.metrics = metrics;
    const { createApp } = await import("../api/index.ts");
    const app = createApp(h.ctx);
    let rx = 100;
    Object.assign(h.evse.board, {
      counters: () => ({
        rx,
        rejected: 2,
        tx: 50,
        trip: 0,
        trips: 1,
        eventsDropped: 0,
        reaction: { count: 3, sumUs: 600, maxUs: 300, lastUs: 100, bucketsUs: [0, 1, 2, 3, 3, 3, 3, 3] },
      }),
    });
    metrics.publication(1, { id: 1, name: "session_event", value: { event: "SessionStarted", uuid: "u" } } as never);
    metrics.publication(1, { id: 2, name: "session_event", value: { event: "TransactionStarted", uuid: "u", transaction_started: meterAt(1000) } } as never);
    metrics.boardInput(1, { kind: "event", event: "PowerOn" });
    metrics.boardInput(1, { kind: "event", event: "PowerOff" });
    metrics.publication(1, { id: 3, name: "session_event", value: { event: "TransactionFinished", uuid: "u", transaction_finished: meterAt(1750.5) } } as never);
    metrics.publication(1, { id: 4, name: "session_event", value: { event: "SessionFinished", uuid: "u" } } as never);
    await app.request("/api/v1/evses/1/vars");
    await app.request("/api/v1/evses/9/vars");

    const res = await app.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const f = parsePrometheus(await res.text());
    for (const [name, type] of REQUIRED) {
      expect(f.get(name)?.type).toBe(type);
      expect(f.get(name)!.help.length).toBeGreaterThan(0);
    }
    const evse = { evse: "1" };
    expect(sampleValue(f, "evse_sessions_started_total", evse)).toBe(1);
    expect(sampleValue(f, "evse_sessions_finished_total", evse)).toBe(1);
    expect(sampleValue(f, "evse_energy_delivered_wh_total", evse)).toBe(750.5);
    expect(sampleValue(f, "evse_relay_switches_total", evse)).toBe(2);
    expect(sampleValue(f, "evse_board_reports_total", evse)).toBe(100);
    expect(sampleValue(f, "evse_board_reports_rejected_total", evse)).toBe(2);
    expect(sampleValue(f, "evse_interlock_trips_total", evse)).toBe(1);
    expect(sampleValue(f, "evse_api_requests_total", { method: "GET", route: "/api/v1/evses/:i/vars", status: "200" })).toBe(1);
    expect(sampleValue(f, "evse_api_requests_total", { method: "GET", route: "/api/v1/evses/:i/vars", status: "404" })).toBe(1);
    expect(sampleValue(f, "evse_api_request_duration_seconds", { route: "/api/v1/evses/:i/vars" }, "evse_api_request_duration_seconds_count")).toBe(2);
    expect(sampleValue(f, "evse_rt_reaction_latency_seconds", { ...evse, le: "0.0001" }, "evse_rt_reaction_latency_seconds_bucket")).toBe(1);
    expect(sampleValue(f, "evse_rt_reaction_latency_seconds", evse, "evse_rt_reaction_latency_seconds_count")).toBe(3);
    expect(sampleValue(f, "evse_rt_reaction_latency_seconds", evse, "evse_rt_reaction_latency_seconds_sum")).toBeCloseTo(0.0006, 9);
    expect(sampleValue(f, "evse_rt_reaction_latency_max_seconds", evse)).toBeCloseTo(0.0003, 9);
    // The rate needs a window: 0 on the first scrape, reports per second after it.
    expect(sampleValue(f, "evse_board_report_rate_hz", evse)).toBe(0);
    rx = 150;
    t = 2000;
    const again = parsePrometheus(await (await app.request("/metrics")).text());
    expect(sampleValue(again, "evse_board_report_rate_hz", evse)).toBe(25);
  });

  test("the parser refuses malformed exposition text", () => {
    expect(() => parsePrometheus("# TYPE a counter\na{x=1} 2\n")).toThrow("bad labels");
    expect(() => parsePrometheus("# TYPE a counter\nb 2\n")).toThrow("outside its family");
    expect(() => parsePrometheus("# TYPE a counter\na -1\n")).toThrow("negative counter");
    expect(() => parsePrometheus('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n')).toThrow("not cumulative");
    expect(() => parsePrometheus("# TYPE a counter\na 1")).toThrow("newline");
  });
});

/** A transport whose writes take 0.25 ms of the fake clock, so a reaction has a known latency. */
class SlowTransport implements Transport {
  readonly kind = "sim" as const;
  sink: TransportSink | null = null;
  writes = 0;
  constructor(private readonly tick: (ms: number) => void) {}
  start(sink: TransportSink): void {
    this.sink = sink;
    sink.link(true, "fake");
  }
  poll(): void {}
  write(): boolean {
    this.writes++;
    this.tick(0.25);
    return true;
  }
  async close(): Promise<void> {}
}

describe("real-time reaction latency", () => {
  test("is recorded for an input report that changed the outputs, and only for those", () => {
    let now = 1000;
    const shm = Shm.create();
    const t = new SlowTransport((ms) => (now += ms));
    const loop = new RtLoop(shm, t, () => now);
    loop.start();
    const req = defaultRequested();
    Object.assign(req, { cpMode: CpMode.PWM, duty: 2667, allow: true, allowReason: 1 });
    shm.writeRequested(req);
    loop.pass();
    expect(shm.counters().reaction.count).toBe(0); // no report yet: main's request is not a reaction

    const st = emptyState();
    st.flags = StateFlag.ENABLED;
    st.cp = 2; // C
    st.ampacity = 3;
    const bytes = new Uint8Array(64);
    encodeState(st, bytes);
    t.sink!.report(bytes, 64); // the board answers: the interlock lets the relays be allowed now
    let r = shm.counters().reaction;
    expect(r.count).toBe(1);
    expect(r.lastUs).toBe(250);
    expect(r.bucketsUs).toEqual([0, 0, 1, 1, 1, 1, 1, 1]);

    const writes = t.writes;
    t.sink!.report(bytes, 64); // the same report again: nothing to change, nothing sent
    expect(t.writes).toBe(writes);
    expect(shm.counters().reaction.count).toBe(1);

    st.cp = 4; // E: the interlock takes the permission away
    encodeState(st, bytes);
    t.sink!.report(bytes, 64);
    r = shm.counters().reaction;
    expect(r.count).toBe(2);
    expect(r.sumUs).toBe(500);
    expect(r.maxUs).toBe(250);
  });
});
