// Start-up of the compiled binary (linux-x64, built from the current sources when dist/ has none
// or an older one): exec to the first 200 on /healthz, and resident memory once idle, for 1, 2, 4
// and 8 EVSEs. Each figure is the median of RUNS starts from an empty directory. The binary runs as
// shipped (it re-executes itself without the JIT, launch.ts); `engines` compares one EVSE started
// that way with its engine environment already set (engine.ts: no re-execution) and with the JIT kept.
//
// The client asks for /healthz once the program's log says it listens, and then every millisecond
// until the answer is 200, as a service manager's readiness check would. It does not poll from
// the exec on: on a 2-core machine a client trying every millisecond takes CPU from the start it
// measures (some 9 ms more to the first 200, alternated starts). `polled_1ms_startup_ms` is one
// EVSE as shipped with such a client, for comparison.
//   bun bench/startup.ts            prints one JSON object
import { linkSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INTERPRETER_ENV } from "../engine.ts";
import { bareEnv, binary, cleanup, emptyDirWith } from "../test/binary-harness.ts";

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 5);
const IDLE_MS = 2000;
export const EVSE_COUNTS = [1, 2, 4, 8] as const;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

const summary = (runs: { startup_ms: number; rss_mb: number }[]) => ({
  startup_ms: r1(median(runs.map((r) => r.startup_ms))),
  rss_mb: r1(median(runs.map((r) => r.rss_mb))),
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r1 = (x: number) => Math.round(x * 10) / 10;

/** One raw GET /healthz: true on a 200. A plain socket keeps the poller's own CPU time low, so on a
 *  2-core machine it does not slow down the start it measures. */
function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let head = "";
    socket.setTimeout(500, () => socket.destroy());
    socket.on("connect", () => socket.write("GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"));
    socket.on("data", (chunk) => {
      head += chunk.toString("latin1");
      if (head.length >= 12) socket.destroy();
    });
    socket.on("close", () => resolve(head.startsWith("HTTP/1.1 200")));
    socket.on("error", () => {});
  });
}

type Engine = "shipped" | "no_reexec" | "jit";
const ENGINE_ENV: Record<Engine, Record<string, string>> = {
  shipped: {},
  no_reexec: { ...INTERPRETER_ENV },
  jit: { EVSE_MANAGER_JIT: "1" },
};

/** A fresh empty directory holding only the binary, hard-linked from one staged copy: copying
 *  100 MB for every start would leave the kernel writing back the previous copies while the next
 *  start is timed. */
function emptyDirLinking(staged: string): { dir: string; exe: string } {
  const dir = mkdtempSync(join(tmpdir(), "evse-start-"));
  const exe = join(dir, "evse-manager");
  linkSync(staged, exe);
  return { dir, exe };
}

/** Reads the program's stdout until its `listening on` line (or the deadline), leaving the rest. */
async function listeningLine(stdout: ReadableStream<Uint8Array>, timeoutMs: number): Promise<void> {
  const reader = stdout.getReader();
  const decoder = new TextDecoder();
  const deadline = setTimeout(() => reader.cancel().catch(() => {}), timeoutMs);
  let text = "";
  try {
    while (!text.includes("listening on")) {
      const { value, done } = await reader.read();
      if (done) return;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(deadline);
    reader.releaseLock();
  }
}

async function once(staged: string, evses: number, port: number, engine: Engine = "shipped", polled = false): Promise<{ startup_ms: number; rss_mb: number }> {
  const { dir, exe: linked } = emptyDirLinking(staged);
  try {
    writeFileSync(join(dir, "config.json"), JSON.stringify({ api: { port }, storage: { path: ":memory:" }, evses: Array.from({ length: evses }, () => ({})) }));
    const t0 = performance.now();
    const proc = Bun.spawn([linked, "--config", "config.json"], { cwd: dir, env: bareEnv(dir, ENGINE_ENV[engine]), stdout: "pipe", stderr: "ignore" });
    if (!polled) await listeningLine(proc.stdout, 10_000);
    let startup = NaN;
    while (performance.now() - t0 < 10_000) {
      if (await healthy(port)) {
        startup = performance.now() - t0;
        break;
      }
      await Bun.sleep(1);
    }
    void proc.stdout.pipeTo(new WritableStream()).catch(() => {}); // keep reading: a full pipe would block its log
    await Bun.sleep(IDLE_MS);
    const rss = rssMb(proc.pid);
    proc.kill("SIGTERM");
    await proc.exited;
    return { startup_ms: startup, rss_mb: rss };
  } finally {
    cleanup(dir);
  }
}

export interface StartupFigures {
  /** Median exec → first 200 on /healthz, one EVSE. */
  startup_ms: number;
  /** Median idle RSS, one EVSE. */
  rss_mb: number;
  /** Per EVSE count: median start-up and idle RSS. */
  by_evses: Record<string, { startup_ms: number; rss_mb: number }>;
  /** Largest RSS growth per added EVSE between consecutive counts. */
  rss_mb_per_extra_evse: number;
  /** One EVSE, runs interleaved: as shipped, with the engine environment preset (as the systemd unit of
   *  docs/integrators.md does), and with EVSE_MANAGER_JIT=1. */
  engines: Record<Engine, { startup_ms: number; rss_mb: number }>;
  /** One EVSE as shipped, measured by a client that tries /healthz every millisecond from the exec
   *  on (interleaved with `engines`): what such a client's CPU use adds on this machine. */
  polled_1ms_startup_ms: number;
  target: { startup_ms: number; rss_mb: number; rss_mb_per_extra_evse: number };
}

export async function measureStartup(): Promise<StartupFigures> {
  const { dir: stage, exe } = emptyDirWith(await binary("linux-x64"));
  Bun.spawnSync(["sync"]);
  try {
    return await measureFrom(exe);
  } finally {
    cleanup(stage);
  }
}

async function measureFrom(exe: string): Promise<StartupFigures> {
  const by: StartupFigures["by_evses"] = {};
  let port = 19_300 + Math.floor(Math.random() * 400);
  for (const n of EVSE_COUNTS) {
    const runs = [];
    for (let k = 0; k < RUNS; k++) runs.push(await once(exe, n, port++));
    by[n] = summary(runs);
  }
  const byEngine = { shipped: [], no_reexec: [], jit: [] } as Record<Engine, { startup_ms: number; rss_mb: number }[]>;
  const polled: { startup_ms: number; rss_mb: number }[] = [];
  for (let k = 0; k < RUNS; k++) {
    for (const engine of Object.keys(byEngine) as Engine[]) byEngine[engine].push(await once(exe, 1, port++, engine));
    polled.push(await once(exe, 1, port++, "shipped", true));
  }
  const engines = Object.fromEntries(Object.entries(byEngine).map(([e, runs]) => [e, summary(runs)])) as StartupFigures["engines"];
  let perEvse = 0;
  for (let k = 1; k < EVSE_COUNTS.length; k++) {
    const a = EVSE_COUNTS[k - 1]!;
    const b = EVSE_COUNTS[k]!;
    perEvse = Math.max(perEvse, (by[b]!.rss_mb - by[a]!.rss_mb) / (b - a));
  }
  return {
    startup_ms: by[1]!.startup_ms,
    rss_mb: by[1]!.rss_mb,
    by_evses: by,
    rss_mb_per_extra_evse: r1(perEvse),
    engines,
    polled_1ms_startup_ms: summary(polled).startup_ms,
    target: { startup_ms: 80, rss_mb: 50, rss_mb_per_extra_evse: 8 },
  };
}

if (import.meta.main) {
  process.stdout.write(JSON.stringify(await measureStartup()) + "\n");
}
