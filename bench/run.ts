// `npm run bench`: real-time reaction of the worker, measured on the simulated board's own clock:
// from the board switching CP from C to B until it receives the output report that withdraws
// allow_power_on. Three cases: idle; while a separate process saturates an HTTP endpoint served
// by this (main) thread; while this thread busy-loops 2 s at a time. Then how soon main notices a
// dead or hung worker (bench/worker-failure.ts). Then the compiled binary's
// start-up and memory (bench/startup.ts), its idle cost with 1 and 8 EVSEs (bench/idle.ts) and its
// HTTP throughput against a bare Bun.serve (bench/api.ts), the MQTT bridge against a local mosquitto
// (bench/mqtt.ts) and OCPP with 8 EVSEs against a real CSMS (bench/ocpp.ts). The last line printed
// is one JSON object with the figures.
//
// The real-time figures are taken in the engine mode the binary ships with (launch.ts): without
// the JIT, unless BENCH_ENGINE=jit. That is fixed when a process starts, so they come from a child
// started with the binary's engine environment (engine.ts; BENCH_PART=rt); start-up is timed from this process, with the
// JIT, so that the client takes as little of the 2 cores as it can (bench/startup.ts).
import { join } from "node:path";
import { startBoard } from "../rt-worker/index.ts";
import { spawnThread } from "../rt-worker/prespawn.ts";
import { simulatedBoards } from "../sim/board/boards.ts";
import type { BoardHost } from "../rt-worker/host.ts";
import { INTERPRETER_ENV } from "../engine.ts";
import { measureStartup } from "./startup.ts";
import { measureIdle } from "./idle.ts";
import { measureApi } from "./api.ts";
import { measureMqtt } from "./mqtt.ts";
import { runOcppBench } from "./ocpp.ts";
import { measureWorkerFailure } from "./worker-failure.ts";

const ENGINE = process.env.BENCH_ENGINE === "jit" ? "jit" : "interpreter";
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 10_000);
const BUSY_MS = 2000;
const BUN = process.execPath;

interface Stats {
  p50: number;
  p99: number;
  max: number;
  n: number;
}

function stats(us: Float64Array): Stats {
  const s = Float64Array.from(us).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  const r = (x: number) => Math.round(x * 10) / 10;
  return { p50: r(at(0.5)), p99: r(at(0.99)), max: r(s[s.length - 1] ?? NaN), n: s.length };
}

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
}

const log = (line: string) => process.stdout.write(line + "\n");

interface Reaction {
  results: Record<string, Stats>;
  counters: unknown;
  /** Worker death and hang: last beat to main noticing, ms (bench/worker-failure.ts). */
  worker_failure: Awaited<ReturnType<typeof measureWorkerFailure>>;
}

async function measureReaction(): Promise<Reaction> {
  const board = (await startBoard({ kind: "sim", index: 1, sim: { seed: 1 } as any }, { simBench: true, simulator: simulatedBoards(() => spawnThread("sim-board", 0)) })) as BoardHost;
  board.onInput(() => {});
  board.port.pwm_on(50);
  board.port.allow_power_on({ allow_power_on: true, reason: "FullPowerCharging" });
  await Bun.sleep(300);
  await board.bench({ samples: 1000, timeoutMs: 10_000 }); // warm-up, not counted

  const results: Record<string, Stats> = {};

  // 1. idle
  results.idle = stats(await board.bench({ samples: SAMPLES, timeoutMs: 60_000 }));
  log(`idle         ${JSON.stringify(results.idle)}`);

  // 2. api_load: a minimal HTTP endpoint on this thread, hammered by a child process.
  {
    let served = 0;
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => {
        served++;
        return Response.json({ health: board.health(), sim: board.sim?.state() });
      },
    });
    // The load comes from a client with the JIT: as much load as this machine can make.
    const { BUN_JSC_useJIT: _engine, ...clientEnv } = process.env;
    const client = Bun.spawn([BUN, join(import.meta.dir, "load-client.ts"), `http://127.0.0.1:${server.port}/`, "90000", "8"], {
      env: clientEnv,
      stdout: "pipe",
      stderr: "inherit",
    });
    await Bun.sleep(500); // let the load ramp up
    const before = served;
    const t0 = performance.now();
    const samples = await board.bench({ samples: SAMPLES, timeoutMs: 60_000 });
    const rate = Math.round(((served - before) * 1000) / (performance.now() - t0));
    client.kill();
    await client.exited;
    server.stop(true);
    results.api_load = stats(samples);
    log(`api_load     ${JSON.stringify(results.api_load)} (${rate} HTTP requests/s served by main meanwhile)`);
  }

  // 3. main_blocked: this thread busy-loops 2 s at a time (10 ms breaks) while the bench runs.
  // After 1 s without main's heartbeat the worker holds the relays open by itself, so samples only
  // accrue in the first second of each block.
  {
    let done: Float64Array | null = null;
    const run = board.bench({ samples: SAMPLES, timeoutMs: 120_000 }).then((s) => (done = s));
    let blocks = 0;
    while (done === null) {
      busy(BUSY_MS);
      blocks++;
      await Bun.sleep(10);
    }
    await run;
    results.main_blocked = stats(done);
    log(`main_blocked ${JSON.stringify(results.main_blocked)} (${blocks} blocks of ${BUSY_MS} ms)`);
  }

  const counters = board.counters();
  await board.stop();
  const worker_failure = await measureWorkerFailure();
  log(`worker_fail  ${JSON.stringify(worker_failure)}`);
  return { results, counters, worker_failure };
}

/** The real-time part in a child with the shipped engine; its lines are passed on as they come. */
async function reactionInChild(): Promise<Reaction> {
  const child = Bun.spawn([BUN, ...process.argv.slice(1)], {
    env: { ...process.env, ...INTERPRETER_ENV, BENCH_PART: "rt" },
    stdout: "pipe",
    stderr: "inherit",
  });
  const decoder = new TextDecoder();
  let pending = "";
  let last = "";
  for await (const chunk of child.stdout) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith("{")) last = line;
      else log(line);
    }
  }
  if ((await child.exited) !== 0 || last === "") throw new Error("the real-time bench failed");
  return JSON.parse(last) as Reaction;
}

if (process.env.BENCH_PART === "rt") {
  log(JSON.stringify(await measureReaction()));
  process.exit(0);
}
const { results, counters, worker_failure } = ENGINE === "interpreter" ? await reactionInChild() : await measureReaction();
// 4. the compiled binary: exec to first 200 on /healthz and idle RSS, for 1, 2, 4 and 8 EVSEs.
const startup = await measureStartup();
log(`startup      ${JSON.stringify(startup.by_evses)}`);
// 5. the compiled binary, idle: CPU over 20 s and RSS, 1 and 8 EVSEs.
const idle = await measureIdle();
log(`idle         ${JSON.stringify(idle)}`);
// 6. the compiled binary's HTTP API against a bare Bun.serve, alternating runs.
const api = await measureApi();
log(`api          ${JSON.stringify(api)}`);
// 7. the MQTT bridge against a local mosquitto: events/s, event → message delay, rt reaction meanwhile.
// A failed protocol bench is reported in the JSON; the figures measured before it are kept.
const failed = (err: unknown) => ({ error: (err as Error).message ?? String(err) });
const mqtt = await measureMqtt(log).catch(failed);
log(`mqtt         ${JSON.stringify(mqtt)}`);
// 8. OCPP with 8 EVSEs against the test suite's CSMS (BENCH_OCPP_STEADY_S, BENCH_OCPP_CYCLES shorten it).
const ocpp = await runOcppBench().then((r) => r.ocpp, failed);
log(`ocpp         ${JSON.stringify(ocpp)}`);
log(
  JSON.stringify({
    rt_reaction_us: results,
    engine: ENGINE,
    target: { p99_us: 500, max_us: 5000 },
    worker: counters,
    worker_failure,
    startup_ms: startup.startup_ms,
    rss_mb: startup.rss_mb,
    startup,
    idle: { ...idle, window_s: 20, target: { evses_1: { cpu_percent_of_one_core: 1.5, rss_mb: 50 }, evses_8: { cpu_percent_of_one_core: 4, rss_mb: 100 } } },
    api: { ...api, target: { ratio: 0.7 } },
    mqtt,
    ocpp,
  }),
);
process.exit(0);
