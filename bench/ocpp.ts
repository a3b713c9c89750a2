// `bun bench/ocpp.ts`: OCPP under load, against the real CSMS of the tests (ocpp-rpc RPCServer,
// strict schema validation, under Node). One process with 8 simulated EVSEs:
//
// 1. sustained: all 8 charge for BENCH_OCPP_STEADY_S seconds with MeterValueSampleInterval 1;
//    OCPP messages per second as the CSMS received them, the product's own in/out counters, the
//    largest transaction-queue backlog seen, and the product's CPU share.
// 2. latency: every EVSE runs BENCH_OCPP_CYCLES sessions (plug, token, charge with the car pausing
//    and resuming a few times, token, unplug); for
//    each session event the delay until the CSMS received its OCPP message (StatusNotification,
//    StartTransaction, StopTransaction), p50/p99/max in ms (same host clock on both sides).
// 3. rt_reaction_us: the real-time loop's reaction histogram (evse_rt_reaction_latency_seconds in
//    /metrics) over the session cycles, with OCPP and again without it (auth.tokens instead), so
//    the two can be compared.
//
// The last line printed is one JSON object with the figures (bench/run.ts may embed it:
// `const ocpp = await runOcppBench()`, or run this file and parse its last line).
import { readFileSync } from "node:fs";
import { startServer, type EventStream, type TestServer } from "../test/helpers/server.ts";
import { startCsms, type Csms } from "../test/ocpp/csms.ts";

const EVSES = 8;
const STEADY_S = Number(process.env.BENCH_OCPP_STEADY_S ?? 30);
const CYCLES = Number(process.env.BENCH_OCPP_CYCLES ?? 5);
const PLUG_CHARGE = "sleep 0.5;iec_wait_pwr_ready;sleep 0.5;draw_power_regulated 16,3;sleep 36000";
/** Pauses (C → B: the worker opens the relays, one measured reaction) and resumptions per session. */
const TOGGLES = 4;
const CYCLE_SCRIPT = `sleep 0.5;iec_wait_pwr_ready;sleep 0.5;${"draw_power_regulated 16,3;sleep 1;pause;sleep 1;".repeat(TOGGLES)}draw_power_regulated 16,3;sleep 36000`;
const log = (line: string) => process.stdout.write(line + "\n");

interface Percentiles {
  p50: number;
  p99: number;
  max: number;
  n: number;
}

function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  const r = (x: number) => Math.round(x * 10) / 10;
  return { p50: r(at(0.5)), p99: r(at(0.99)), max: r(s[s.length - 1] ?? NaN), n: s.length };
}

const token = (i: number) => `BENCH${String(i).padStart(4, "0")}`;
const rfid = (i: number) => ({ id_token: { value: token(i), type: "ISO14443" }, evse: i });
const evseList = Array.from({ length: EVSES }, (_, k) => k + 1);

function config(csms: Csms | null): Record<string, unknown> {
  const evses = evseList.map(() => ({}));
  if (!csms) return { evses, auth: { tokens: evseList.map((i) => ({ id_tag: token(i) })) } };
  return {
    evses,
    ocpp: {
      central_system_url: csms.url,
      charge_point_id: "BENCH01",
      configuration: { MeterValueSampleInterval: 1, MeterValuesSampledData: "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage" },
    },
  };
}

/** Process CPU time (user + system) in seconds, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

/** The reaction histogram summed over every EVSE. */
interface Reactions {
  count: number;
  sum: number;
  buckets: Map<number, number>;
  max: number;
}

async function reactions(srv: TestServer): Promise<Reactions> {
  const text = await (await srv.fetch("/metrics")).text();
  const out: Reactions = { count: 0, sum: 0, buckets: new Map(), max: 0 };
  for (const line of text.split("\n")) {
    let m = /^evse_rt_reaction_latency_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)/.exec(line);
    if (m) {
      const le = m[1] === "+Inf" ? Infinity : Number(m[1]);
      out.buckets.set(le, (out.buckets.get(le) ?? 0) + Number(m[2]));
      continue;
    }
    if ((m = /^evse_rt_reaction_latency_seconds_count\{[^}]*\} (\S+)/.exec(line))) out.count += Number(m[1]);
    else if ((m = /^evse_rt_reaction_latency_seconds_sum\{[^}]*\} (\S+)/.exec(line))) out.sum += Number(m[1]);
    else if ((m = /^evse_rt_reaction_latency_max_seconds\{[^}]*\} (\S+)/.exec(line))) out.max = Math.max(out.max, Number(m[1]));
  }
  return out;
}

/** Reactions between two scrapes: count, mean, and the bucket bound under which 50 % / 99 % fell (µs). */
function reactionDelta(a: Reactions, b: Reactions): { n: number; mean_us: number; p50_le_us: number; p99_le_us: number; max_since_start_us: number } {
  const n = b.count - a.count;
  const bound = (q: number) => {
    for (const le of [...b.buckets.keys()].sort((x, y) => x - y)) {
      if ((b.buckets.get(le) ?? 0) - (a.buckets.get(le) ?? 0) >= q * n) return le === Infinity ? Infinity : Math.round(le * 1e6);
    }
    return NaN;
  };
  return { n, mean_us: n > 0 ? Math.round(((b.sum - a.sum) / n) * 1e6) : NaN, p50_le_us: bound(0.5), p99_le_us: bound(0.99), max_since_start_us: Math.round(b.max * 1e6) };
}

/** How many `name` session events the stream has seen. */
const seen = (stream: EventStream, name: string) => stream.messages.filter((m) => m.event === "session_event" && m.data.event === name).length;

/** Waits until the stream has seen more than `before` `name` session events. */
async function sessionEvent(stream: EventStream, name: string, before: number, where = ""): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (seen(stream, name) <= before) {
    if (Date.now() > deadline) {
      const events = stream.messages.filter((m) => m.event === "session_event").slice(-8).map((m) => m.data.event);
      throw new Error(`${where}: no ${name} within 60 s; last session events ${events.join(", ")}`);
    }
    await Bun.sleep(20);
  }
}


/** Tokens presented again because the first answer was not Authorized (reported with the figures). */
let tokenRetries = 0;

/** CYCLES sessions on every EVSE at once; returns when all are done. */
async function cycleSessions(srv: TestServer, streams: EventStream[]): Promise<void> {
  await Promise.all(
    evseList.map(async (i) => {
      const s = streams[i - 1]!;
      for (let c = 0; c < CYCLES; c++) {
        const count = (name: string) => seen(s, name);
        const [started, charging, finished, ended] = [count("SessionStarted"), count("ChargingStarted"), count("TransactionFinished"), count("SessionFinished")];
        await srv.post(`/api/v1/evses/${i}/sim/car`, { script: CYCLE_SCRIPT, replace: true });
        await sessionEvent(s, "SessionStarted", started, `EVSE ${i} cycle ${c}`);
        let auth = (await srv.post("/api/v1/tokens", rfid(i))).body;
        for (let retry = 0; auth.result !== "Authorized" && retry < 10; retry++) {
          const why = srv.output.filter((l) => l.includes(`token ${token(i)}: no EVSE can take it`)).at(-1) ?? "";
          log(`EVSE ${i} cycle ${c}: token ${JSON.stringify(auth)} ${why}; again in 0.5 s`);
          tokenRetries++;
          await Bun.sleep(500);
          auth = (await srv.post("/api/v1/tokens", rfid(i))).body;
        }
        if (auth.result !== "Authorized") throw new Error(`EVSE ${i}: token ${JSON.stringify(auth)}`);
        await sessionEvent(s, "ChargingStarted", charging, `EVSE ${i} cycle ${c}`);
        await Bun.sleep(TOGGLES * 2000 + 1500);
        const stop = (await srv.post("/api/v1/tokens", rfid(i))).body;
        if (stop.result !== "Stopped") throw new Error(`EVSE ${i} cycle ${c}: stop token ${JSON.stringify(stop)}`);
        await sessionEvent(s, "TransactionFinished", finished, `EVSE ${i} cycle ${c}`);
        await srv.post(`/api/v1/evses/${i}/sim/car`, { script: "unplug", replace: true });
        await sessionEvent(s, "SessionFinished", ended, `EVSE ${i} cycle ${c}`);
      }
    }),
  );
}

/** Which session events a StatusNotification status follows from (ocpp.md §3). */
const STATUS_FROM: Record<string, string[]> = {
  Preparing: ["SessionStarted"],
  Charging: ["ChargingStarted", "ChargingResumed"],
  SuspendedEV: ["ChargingPausedEV"],
  SuspendedEVSE: ["ChargingPausedEVSE", "WaitingForEnergy", "SwitchingPhases"],
  Finishing: ["TransactionFinished", "PluginTimeout"],
  Available: ["SessionFinished", "Enabled"],
};

/** Session event → OCPP message delays (ms) from the CSMS's receive times. */
async function eventDelays(csms: Csms, streams: EventStream[], since: number): Promise<{ all: number[]; byAction: Record<string, number[]> }> {
  const byAction: Record<string, number[]> = { StatusNotification: [], StartTransaction: [], StopTransaction: [] };
  for (const e of await csms.log()) {
    if (e.type !== "call" || Date.parse(e.at) < since) continue;
    const at = Date.parse(e.at);
    if (e.action === "StartTransaction" || e.action === "StopTransaction") {
      byAction[e.action]!.push(at - Date.parse(e.params.timestamp));
    } else if (e.action === "StatusNotification" && e.params.connectorId > 0) {
      const from = STATUS_FROM[e.params.status as string] ?? [];
      const events = streams[e.params.connectorId - 1]!.messages.filter(
        (m) => m.event === "session_event" && from.includes(m.data.event) && Date.parse(m.data.timestamp) <= at && Date.parse(m.data.timestamp) >= since,
      );
      const cause = events.at(-1);
      if (cause) byAction.StatusNotification!.push(at - Date.parse(cause.data.timestamp));
    }
  }
  return { all: Object.values(byAction).flat(), byAction };
}

function counters(text: string): { out: number; in: number } {
  let out = 0;
  let inbound = 0;
  for (const m of text.matchAll(/^evse_ocpp_messages_total\{direction="(in|out)",[^}]*\} (\d+)/gm)) {
    if (m[1] === "out") out += Number(m[2]);
    else inbound += Number(m[2]);
  }
  return { out, in: inbound };
}

/** Until every EVSE's kernel has started (var `ready`): tokens are refused with 409 not_started
 *  before, and startServer's waitReady looks at EVSE 1 only. */
async function allReady(srv: TestServer): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (const i of evseList) {
    while ((await srv.get(`/api/v1/evses/${i}/vars/ready`)).body !== true) {
      if (Date.now() > deadline) throw new Error(`EVSE ${i}: ready did not become true within 60 s`);
      await Bun.sleep(50);
    }
  }
}

export async function runOcppBench() {
  // ---- with OCPP
  const csms = await startCsms();
  const srv = await startServer({ config: config(csms), waitReady: true, timeoutMs: 90_000 });
  await allReady(srv);
  try {
    const streams = evseList.map((i) => srv.events({ evse: i }));
    await csms.waitFor((e) => e.type === "call" && e.action === "StatusNotification" && e.params.connectorId === EVSES, 60_000, "the last connector's status");

    // 1. sustained
    await Promise.all(
      evseList.map(async (i) => {
        const mark = seen(streams[i - 1]!, "ChargingStarted");
        await srv.post(`/api/v1/evses/${i}/sim/car`, { script: PLUG_CHARGE, replace: true });
        await srv.post("/api/v1/tokens", rfid(i));
        await sessionEvent(streams[i - 1]!, "ChargingStarted", mark);
      }),
    );
    await Bun.sleep(2000);
    const t0 = Date.now();
    const cpu0 = cpuSeconds(srv.proc.pid);
    const c0 = counters(await (await srv.fetch("/metrics")).text());
    let backlog = 0;
    while (Date.now() - t0 < STEADY_S * 1000) {
      await Bun.sleep(1000);
      backlog = Math.max(backlog, (await srv.get("/api/v1/ocpp")).body.queued_transaction_messages);
    }
    const t1 = Date.now();
    const cpu1 = cpuSeconds(srv.proc.pid);
    const c1 = counters(await (await srv.fetch("/metrics")).text());
    const seconds = (t1 - t0) / 1000;
    const received = (await csms.log()).filter((e) => e.type === "call" && Date.parse(e.at) >= t0 && Date.parse(e.at) < t1);
    const perSecond = new Map<number, number>();
    for (const e of received) perSecond.set(Math.floor((Date.parse(e.at) - t0) / 1000), (perSecond.get(Math.floor((Date.parse(e.at) - t0) / 1000)) ?? 0) + 1);
    const rates = [...Array(Math.floor(seconds)).keys()].map((s) => perSecond.get(s) ?? 0);
    const sustained = {
      evses_charging: EVSES,
      seconds: Math.round(seconds * 10) / 10,
      csms_received_per_s: Math.round((received.length / seconds) * 10) / 10,
      meter_values_per_s: Math.round((received.filter((e) => e.action === "MeterValues").length / seconds) * 10) / 10,
      min_per_s: Math.min(...rates),
      max_per_s: Math.max(...rates),
      product_out_per_s: Math.round(((c1.out - c0.out) / seconds) * 10) / 10,
      product_in_per_s: Math.round(((c1.in - c0.in) / seconds) * 10) / 10,
      max_queue_backlog: backlog,
      product_cpu_percent: Math.round(((cpu1 - cpu0) / seconds) * 1000) / 10,
    };
    log(`sustained    ${JSON.stringify(sustained)}`);
    await Promise.all(
      evseList.map(async (i) => {
        const mark = seen(streams[i - 1]!, "SessionFinished");
        await srv.post("/api/v1/tokens", rfid(i));
        await srv.post(`/api/v1/evses/${i}/sim/car`, { script: "unplug", replace: true });
        await sessionEvent(streams[i - 1]!, "SessionFinished", mark);
      }),
    );
    await Bun.sleep(1000);

    // 2. and 3. session cycles
    const since = Date.now();
    const r0 = await reactions(srv);
    await cycleSessions(srv, streams);
    const r1 = await reactions(srv);
    await Bun.sleep(2000); // the last StatusNotifications arrive
    const delays = await eventDelays(csms, streams, since);
    const latency = {
      all: percentiles(delays.all),
      ...Object.fromEntries(Object.entries(delays.byAction).map(([k, v]) => [k, percentiles(v)])),
    };
    log(`latency_ms   ${JSON.stringify(latency)}`);
    const withOcpp = reactionDelta(r0, r1);
    log(`rt (ocpp)    ${JSON.stringify(withOcpp)}`);
    const strict = (await csms.log()).filter((e) => e.type === "strict_failure").length;
    const retriesWithOcpp = tokenRetries;
    for (const s of streams) s.close();
    await srv.stop();

    // ---- the same cycles without OCPP
    const plain = await startServer({ config: config(null), waitReady: true, timeoutMs: 90_000 });
    await allReady(plain);
    let without: ReturnType<typeof reactionDelta>;
    try {
      const plainStreams = evseList.map((i) => plain.events({ evse: i }));
      const p0 = await reactions(plain);
      await cycleSessions(plain, plainStreams);
      const p1 = await reactions(plain);
      without = reactionDelta(p0, p1);
      for (const s of plainStreams) s.close();
    } finally {
      await plain.stop();
    }
    log(`rt (no ocpp) ${JSON.stringify(without)}`);
    return { ocpp: { sustained, event_to_csms_ms: latency, rt_reaction_us: { with_ocpp: withOcpp, without_ocpp: without }, schema_failures: strict, token_retries: { with_ocpp: retriesWithOcpp, without_ocpp: tokenRetries - retriesWithOcpp } } };
  } finally {
    await srv.stop().catch(() => {});
    await csms.stop();
  }
}

if (import.meta.main) {
  const result = await runOcppBench();
  log(JSON.stringify(result));
  process.exit(0);
}
