// Start-up of the compiled binary (linux-x64, built from the current sources when dist/ has none
// or an older one): exec to the first 200 on /healthz, and resident memory once idle, for 1, 2, 4
// and 8 EVSEs. Each figure is the median of RUNS starts from an empty directory.
//   bun bench/startup.ts            prints one JSON object
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bareEnv, binary, cleanup, emptyDirWith } from "../test/binary-harness.ts";

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 3);
const IDLE_MS = 2000;
export const EVSE_COUNTS = [1, 2, 4, 8] as const;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r1 = (x: number) => Math.round(x * 10) / 10;

async function once(exe: string, evses: number, port: number): Promise<{ startup_ms: number; rss_mb: number }> {
  const { dir, exe: copy } = emptyDirWith(exe);
  try {
    writeFileSync(join(dir, "config.json"), JSON.stringify({ api: { port }, storage: { path: ":memory:" }, evses: Array.from({ length: evses }, () => ({})) }));
    const t0 = performance.now();
    const proc = Bun.spawn([copy, "--config", "config.json"], { cwd: dir, env: bareEnv(dir), stdout: "ignore", stderr: "ignore" });
    let startup = NaN;
    while (performance.now() - t0 < 10_000) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200, () => false);
      if (ok) {
        startup = performance.now() - t0;
        break;
      }
      await Bun.sleep(1);
    }
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
  target: { startup_ms: number; rss_mb: number; rss_mb_per_extra_evse: number };
}

export async function measureStartup(): Promise<StartupFigures> {
  const exe = await binary("linux-x64");
  const by: StartupFigures["by_evses"] = {};
  let port = 19_300 + Math.floor(Math.random() * 400);
  for (const n of EVSE_COUNTS) {
    const runs = [];
    for (let k = 0; k < RUNS; k++) runs.push(await once(exe, n, port++));
    by[n] = { startup_ms: r1(median(runs.map((r) => r.startup_ms))), rss_mb: r1(median(runs.map((r) => r.rss_mb))) };
  }
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
    target: { startup_ms: 100, rss_mb: 60, rss_mb_per_extra_evse: 8 },
  };
}

if (import.meta.main) {
  process.stdout.write(JSON.stringify(await measureStartup()) + "\n");
}
