// Is a silent real-time worker dead, hung or merely starved? On a loaded machine a live worker
// can wait on the run queue longer than a ping period; declaring it failed then breaks a charging
// session for nothing. So when a ping goes unanswered, main asks the kernel about the worker's
// thread (Linux /proc, read only on that rare path): gone → dead; runnable without using CPU →
// starved, keep waiting; runnable and burning CPU without a beat → hung in a busy loop; asleep
// without a beat → blocked. Safety never rests on this: the worker's interlocks and the board's
// 500 ms watchdog open the relays by themselves; this only decides when to report and replace it.
import { readFileSync, readlinkSync } from "node:fs";

/** What the kernel says about the worker thread at one moment. */
export interface ThreadSample {
  /** /proc state letter: R runnable/running, S sleeping, D uninterruptible, Z zombie… */
  state: string;
  /** CPU time the thread has used so far, ms. */
  cpuMs: number;
}

/** "gone": the thread no longer exists; null: nothing known (no /proc, no tid). */
export type ThreadProbe = ThreadSample | "gone" | null;

/** Why a silent worker counts as failed. */
export type FailureCause = "dead" | "busy" | "blocked" | "silent";

export type Verdict =
  /** Starved (or main itself was late): look again (host.ts: after PROBE_MS, and on the next tick). */
  | { kind: "wait" }
  /** First look: keep it, look again after PROBE_MS and compare. */
  | { kind: "probe" }
  | { kind: "failed"; why: FailureCause };

/** While undecided, main looks at the thread this often (only while a ping is unanswered). */
export const PROBE_MS = 10;
/** CPU used since the first look, without a beat, that means a busy loop: a live worker beats
 *  within well under a millisecond of CPU once it runs (a pass is microseconds), and the
 *  scheduler gives a woken thread a slice of about this much before it preempts it. On a loaded
 *  machine a busy loop gets a sliver of a CPU: measured 2 ms of CPU in 14 ms at load 8 on 2 cores. */
export const BUSY_CPU_MS = 3;
/** Silence since the ping after which the worker counts as failed whatever the kernel says. */
export const MAX_SILENCE_MS = 1000;
/** A worker asleep with a ping pending is declared blocked only after this much silence: on a
 *  loaded machine a wake-up can arrive late while the thread sleeps (seen: 64 ms in a test run of
 *  servers side by side), and a false fault stops a charging session. A real deadlock is still
 *  reported; the relays never wait for it (the worker's interlocks, the board's 500 ms watchdog). */
export const BLOCKED_MS = 150;
/** Main's own check this late means the whole process is starved, not the worker alone. */
export const MAIN_LATE_MS = 25;

export interface Silence {
  /** ms since the unanswered ping. */
  waitedMs: number;
  /** The first look at the thread during this silence (null: not taken yet). */
  first: ThreadSample | null;
  /** The look taken now. */
  now: ThreadProbe;
  /** How late main ran this check, ms past when it was due. */
  lateMs: number;
}

/** The verdict on a worker that has not answered a ping; pure. */
export function judgeSilence(s: Silence): Verdict {
  const now = s.now;
  if (now === "gone" || (now !== null && (now.state === "Z" || now.state === "X"))) return { kind: "failed", why: "dead" };
  if (s.waitedMs >= MAX_SILENCE_MS) return { kind: "failed", why: "silent" };
  const mainStarved = s.lateMs > MAIN_LATE_MS;
  // No /proc: the unanswered ping is all there is (unless main itself was held up).
  if (now === null) return mainStarved ? { kind: "wait" } : { kind: "failed", why: "silent" };
  if (s.first === null) return { kind: "probe" };
  if (now.state === "R") return now.cpuMs - s.first.cpuMs >= BUSY_CPU_MS ? { kind: "failed", why: "busy" } : { kind: "wait" };
  // Asleep on both looks with a ping pending: blocked, unless the process as a whole is starved
  // (the worker may wait on a lock held by a thread that is itself not scheduled).
  return mainStarved || s.waitedMs < BLOCKED_MS ? { kind: "wait" } : { kind: "failed", why: "blocked" };
}

/** State and CPU time (utime + stime, clock ticks of 10 ms) from a /proc/…/stat line. The
 *  command name may hold spaces and parentheses: the fields start after the last ")". */
export function parseStat(text: string): ThreadSample | null {
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  const f = text.slice(close + 2).split(" ");
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  if (!f[0] || !Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { state: f[0], cpuMs: (utime + stime) * USER_TICK_MS };
}

/** USER_HZ is 100 on every Linux ABI. */
const USER_TICK_MS = 10;

/** The kernel thread id of the calling thread (Linux), 0 when unknown. Called once per start. */
export function ownThreadId(): number {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    return Number.isInteger(tid) && tid > 0 ? tid : 0;
  } catch {
    return 0;
  }
}

/** A look at thread `tid` of this process; schedstat's run time (ns) is finer than stat's ticks. */
export function probeThread(tid: number): ThreadProbe {
  if (tid <= 0) return null;
  const dir = `/proc/self/task/${tid}`;
  let sample: ThreadSample | null;
  try {
    sample = parseStat(readFileSync(`${dir}/stat`, "utf8"));
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT" ? "gone" : null;
  }
  if (sample === null) return null;
  try {
    const ns = Number(readFileSync(`${dir}/schedstat`, "utf8").split(" ")[0]);
    if (Number.isFinite(ns)) sample.cpuMs = ns / 1e6;
  } catch {
    // no schedstat (CONFIG_SCHED_INFO off): stat's ticks
  }
  return sample;
}
