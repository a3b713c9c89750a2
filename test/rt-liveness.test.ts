// rt-worker/liveness.ts: telling a silent real-time worker that is dead or hung from one that is
// merely not scheduled on a loaded machine. The verdict is pure (fake /proc samples); the /proc
// reading runs against real threads of this process.
import { afterEach, describe, expect, test } from "bun:test";
import { BLOCKED_MS, BUSY_CPU_MS, judgeSilence, MAIN_LATE_MS, MAX_SILENCE_MS, ownThreadId, parseStat, probeThread, type Silence, type ThreadSample } from "../rt-worker/liveness.ts";

const R = (cpuMs: number): ThreadSample => ({ state: "R", cpuMs });
const S = (cpuMs: number): ThreadSample => ({ state: "S", cpuMs });
/** 50 ms after the ping, main on time. */
const silence = (s: Partial<Silence>): Silence => ({ waitedMs: 50, first: null, now: R(100), lateMs: 0, ...s });

describe("judgeSilence", () => {
  test("a thread that is gone, or a zombie, is dead at once", () => {
    expect(judgeSilence(silence({ now: "gone" }))).toEqual({ kind: "failed", why: "dead" });
    expect(judgeSilence(silence({ now: { state: "Z", cpuMs: 5 } }))).toEqual({ kind: "failed", why: "dead" });
    expect(judgeSilence(silence({ now: "gone", first: R(1), lateMs: 500 }))).toEqual({ kind: "failed", why: "dead" });
  });

  test("the first look at a live thread asks for a second one", () => {
    expect(judgeSilence(silence({ now: R(100) }))).toEqual({ kind: "probe" });
    expect(judgeSilence(silence({ now: S(100) }))).toEqual({ kind: "probe" });
  });

  test("runnable without using CPU since the first look: starved, keep waiting", () => {
    expect(judgeSilence(silence({ first: R(100), now: R(100) }))).toEqual({ kind: "wait" });
    expect(judgeSilence(silence({ waitedMs: 600, first: R(100), now: R(100 + BUSY_CPU_MS - 0.5) }))).toEqual({ kind: "wait" });
    // Woken by the ping after the first look, still waiting for a CPU.
    expect(judgeSilence(silence({ first: S(100), now: R(100.2) }))).toEqual({ kind: "wait" });
  });

  test("runnable and burning CPU without a beat: hung in a busy loop", () => {
    expect(judgeSilence(silence({ first: R(100), now: R(100 + BUSY_CPU_MS) }))).toEqual({ kind: "failed", why: "busy" });
    expect(judgeSilence(silence({ first: R(100), now: R(140), lateMs: 300 }))).toEqual({ kind: "failed", why: "busy" });
  });

  test("asleep on both looks with a ping pending: blocked after BLOCKED_MS, unless main itself was starved", () => {
    expect(judgeSilence(silence({ first: S(100), now: S(100) }))).toEqual({ kind: "wait" }); // a late wake-up, not yet a fault
    expect(judgeSilence(silence({ waitedMs: BLOCKED_MS, first: S(100), now: S(100) }))).toEqual({ kind: "failed", why: "blocked" });
    expect(judgeSilence(silence({ waitedMs: BLOCKED_MS, first: R(100), now: { state: "D", cpuMs: 100 } }))).toEqual({ kind: "failed", why: "blocked" });
    expect(judgeSilence(silence({ first: S(100), now: S(100), lateMs: MAIN_LATE_MS + 1 }))).toEqual({ kind: "wait" });
  });

  test("starved or not, the silence ends at MAX_SILENCE_MS", () => {
    expect(judgeSilence(silence({ waitedMs: MAX_SILENCE_MS, first: R(100), now: R(100) }))).toEqual({ kind: "failed", why: "silent" });
    expect(judgeSilence(silence({ waitedMs: MAX_SILENCE_MS, first: null, now: R(100) }))).toEqual({ kind: "failed", why: "silent" });
    expect(judgeSilence(silence({ waitedMs: MAX_SILENCE_MS + 5, now: null, lateMs: 400 }))).toEqual({ kind: "failed", why: "silent" });
  });

  test("without /proc the unanswered ping decides, as before, unless main itself was late", () => {
    expect(judgeSilence(silence({ now: null }))).toEqual({ kind: "failed", why: "silent" });
    expect(judgeSilence(silence({ now: null, lateMs: MAIN_LATE_MS + 1 }))).toEqual({ kind: "wait" });
  });
});

describe("parseStat", () => {
  test("state and utime+stime (10 ms ticks), also when the command name holds spaces and parentheses", () => {
    const tail = "R 1017 1017 32723 0 -1 4194368 478 0 0 0 19 3 0 0 20 0 6 0 576503";
    expect(parseStat(`1028 (Worker) ${tail}`)).toEqual({ state: "R", cpuMs: 220 });
    expect(parseStat(`1028 (a) b (c) ${tail.replace("R", "S")}`)).toEqual({ state: "S", cpuMs: 220 });
  });

  test("a malformed line is no sample", () => {
    expect(parseStat("")).toBeNull();
    expect(parseStat("1028 (Worker) R 1 2")).toBeNull();
  });
});

describe("probeThread on real threads (Linux /proc)", () => {
  const workers: Worker[] = [];
  afterEach(() => {
    for (const w of workers.splice(0)) w.terminate();
  });

  async function thread(): Promise<{ worker: Worker; tid: number }> {
    const worker = new Worker(new URL("./helpers/liveness-thread.ts", import.meta.url).href);
    workers.push(worker);
    const tid = await new Promise<number>((resolve) => (worker.onmessage = (e) => resolve(e.data)));
    return { worker, tid };
  }

  async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
    const end = performance.now() + ms;
    while (!cond()) {
      if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
      await Bun.sleep(5);
    }
  }

  test("a thread id of 0 (unknown) tells nothing; an id not in this process is gone", () => {
    expect(probeThread(0)).toBeNull();
    expect(probeThread(2 ** 30)).toBe("gone");
  });

  test("the calling thread is running and has used CPU", () => {
    const tid = ownThreadId();
    expect(tid).toBeGreaterThan(0);
    const look = probeThread(tid) as ThreadSample;
    expect(look.state).toBe("R");
    expect(look.cpuMs).toBeGreaterThan(0);
  });

  test("a worker in a busy loop is judged busy, one blocked in a wait blocked, a terminated one dead", async () => {
    const spinning = await thread();
    expect(spinning.tid).not.toBe(ownThreadId());
    spinning.worker.postMessage("spin");
    const first = probeThread(spinning.tid) as ThreadSample;
    let now = first;
    await until("the busy worker to use CPU", () => {
      now = probeThread(spinning.tid) as ThreadSample;
      return now.cpuMs - first.cpuMs >= BUSY_CPU_MS;
    });
    expect(judgeSilence(silence({ first, now }))).toEqual({ kind: "failed", why: "busy" });

    const blocked = await thread();
    blocked.worker.postMessage("block");
    await until("the worker to block", () => (probeThread(blocked.tid) as ThreadSample).state === "S");
    // A thread seen in S can still be on its way into the wait (a lock, a page) and use a little
    // CPU after; the window starts once it has settled (a CI run under load judged "wait").
    await Bun.sleep(20);
    const a = probeThread(blocked.tid) as ThreadSample;
    await Bun.sleep(20);
    expect(judgeSilence(silence({ waitedMs: BLOCKED_MS, first: a, now: probeThread(blocked.tid) }))).toEqual({ kind: "failed", why: "blocked" });

    blocked.worker.terminate();
    await until("the thread to be gone", () => probeThread(blocked.tid) === "gone");
    expect(judgeSilence(silence({ now: probeThread(blocked.tid) }))).toEqual({ kind: "failed", why: "dead" });
  });
});
