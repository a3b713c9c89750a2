// Idle cost of the compiled binary as shipped: simulated board, no car, nothing asked of it. Started
// from an empty directory with 1 and 8 EVSEs; after it answers /healthz and settles, the CPU time of
// all its threads (utime + stime of /proc/PID/task/*/stat) over WINDOW_MS, as a percentage of one
// core, and its resident memory (VmRSS) at the end of the window.
//   bun bench/idle.ts [evses...]      prints one JSON object (per thread with IDLE_THREADS=1)
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bareEnv, binary, cleanup, emptyDirWith, untilStatus } from "../test/binary-harness.ts";

const WINDOW_MS = Number(process.env.BENCH_IDLE_WINDOW_MS ?? 20_000);
const SETTLE_MS = 3000;
/** Clock ticks per second of /proc's utime and stime (USER_HZ; 100 on every Linux gateway). */
const USER_HZ = 100;
export const IDLE_EVSE_COUNTS = [1, 8] as const;

export interface IdleFigures {
  cpu_percent_of_one_core: number;
  rss_mb: number;
  threads: number;
  /** Per thread: CPU % of one core and wake-ups per second (only with IDLE_THREADS=1). */
  by_thread?: Record<string, { cpu: number; wakes: number }>;
}

/** Per thread (name#tid): CPU ticks and times scheduled in (/proc/…/schedstat). */
function threadTicks(pid: number): Map<string, { ticks: number; runs: number }> {
  const out = new Map<string, { ticks: number; runs: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    let runs = 0;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      runs = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[2]);
    } catch {
      continue; // the thread ended meanwhile
    }
    const close = stat.lastIndexOf(")");
    const name = `${stat.slice(stat.indexOf("(") + 1, close)}#${tid}`;
    const f = stat.slice(close + 2).split(" ");
    out.set(name, { ticks: Number(f[11]) + Number(f[12]), runs }); // fields 14 and 15: utime, stime
  }
  return out;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

export async function measureIdleOnce(exe: string, evses: number, env: Record<string, string> = {}): Promise<IdleFigures> {
  const { dir, exe: copy } = emptyDirWith(exe);
  try {
    writeFileSync(join(dir, "config.json"), JSON.stringify({ api: { port: 0 }, storage: { path: ":memory:" }, evses: Array.from({ length: evses }, () => ({})) }));
    const proc = Bun.spawn([copy, "--config", "config.json"], { cwd: dir, env: bareEnv(dir, env), stdout: "pipe", stderr: "ignore" });
    try {
      const port = await listeningPort(proc.stdout);
      await untilStatus(`http://127.0.0.1:${port}/healthz`, 10_000);
      await Bun.sleep(SETTLE_MS);
      const before = threadTicks(proc.pid);
      const t0 = performance.now();
      await Bun.sleep(WINDOW_MS);
      const after = threadTicks(proc.pid);
      const seconds = (performance.now() - t0) / 1000;
      let total = 0;
      const byThread: NonNullable<IdleFigures["by_thread"]> = {};
      for (const [name, { ticks, runs }] of after) {
        const d = ticks - (before.get(name)?.ticks ?? 0);
        total += d;
        byThread[name] = { cpu: r2((d / USER_HZ / seconds) * 100), wakes: Math.round((runs - (before.get(name)?.runs ?? 0)) / seconds) };
      }
      const figures: IdleFigures = { cpu_percent_of_one_core: r2((total / USER_HZ / seconds) * 100), rss_mb: Math.round(rssMb(proc.pid) * 10) / 10, threads: after.size };
      if (process.env.IDLE_THREADS === "1") figures.by_thread = byThread;
      return figures;
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  } finally {
    cleanup(dir);
  }
}

/** The port of the log's "listening on http://host:port" line. */
export async function listeningPort(stdout: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stdout.getReader();
  const dec = new TextDecoder();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the binary exited before listening:\n${text}`);
    text += dec.decode(value, { stream: true });
    const m = /listening on http:\/\/[^\s"]*:(\d+)/.exec(text);
    if (m) {
      // Keep reading: a full pipe would block the program's logging.
      void (async () => {
        while (!(await reader.read()).done) {}
      })().catch(() => {});
      return Number(m[1]);
    }
  }
}

/** Keyed evses_1, evses_8. */
export async function measureIdle(counts: readonly number[] = IDLE_EVSE_COUNTS): Promise<Record<string, IdleFigures>> {
  const exe = await binary("linux-x64");
  const out: Record<string, IdleFigures> = {};
  for (const n of counts) out[`evses_${n}`] = await measureIdleOnce(exe, n);
  return out;
}

if (import.meta.main) {
  const counts = process.argv.slice(2).map(Number);
  process.stdout.write(JSON.stringify(await measureIdle(counts.length > 0 ? counts : IDLE_EVSE_COUNTS)) + "\n");
}
