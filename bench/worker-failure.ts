// How soon main notices a failed real-time worker: from the worker's last heartbeat to main
// declaring it failed (BoardHost.lastDetectionMs), for a worker thread that dies and for one that
// hangs in a busy loop, RUNS times each on the simulated board. The goal is 100 ms; it is a
// figure of the machine's load as much as of the code, so it is measured here and not in a test
// (test/crash-safety.test.ts proves the detection, its cause and the recovery).
//   bun bench/worker-failure.ts     prints one JSON object
import { startBoard } from "../rt-worker/index.ts";
import { spawnThread } from "../rt-worker/prespawn.ts";
import type { BoardHost } from "../rt-worker/host.ts";
import { simulatedBoards } from "../sim/board/boards.ts";

const RUNS = Number(process.env.BENCH_WORKER_FAILURE_RUNS ?? 5);
/** Past the host's start-up grace for a fresh worker (host.ts START_GRACE_MS, 2 s). */
const SETTLE_MS = 2200;

export interface DetectionStats {
  p50_ms: number;
  max_ms: number;
  causes: string[];
  n: number;
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error("the worker was not replaced in time");
    await Bun.sleep(5);
  }
}

function summary(ms: number[], causes: string[]): DetectionStats {
  const s = [...ms].sort((a, b) => a - b);
  return { p50_ms: s[Math.floor(s.length / 2)]!, max_ms: s[s.length - 1]!, causes: [...new Set(causes)], n: s.length };
}

export async function measureWorkerFailure(): Promise<{ dead: DetectionStats; hung: DetectionStats; target_ms: number }> {
  const board = (await startBoard({ kind: "sim", index: 1, sim: { seed: 3 } as any }, { simulator: simulatedBoards(() => spawnThread("sim-board", 0)) })) as BoardHost;
  board.onInput(() => {});
  const out: Record<"dead" | "hung", { ms: number[]; causes: string[] }> = { dead: { ms: [], causes: [] }, hung: { ms: [], causes: [] } };
  try {
    await Bun.sleep(SETTLE_MS);
    for (let i = 0; i < RUNS; i++) {
      for (const kind of ["dead", "hung"] as const) {
        const restarts = board.restarts;
        if (kind === "dead") board.killWorker();
        else board.stallWorker(60_000);
        await until(() => board.restarts > restarts && board.health().worker_running, 10_000);
        out[kind].ms.push(board.lastDetectionMs!);
        out[kind].causes.push(board.lastFailureCause!);
        await Bun.sleep(SETTLE_MS);
      }
    }
  } finally {
    await board.stop();
  }
  return { dead: summary(out.dead.ms, out.dead.causes), hung: summary(out.hung.ms, out.hung.causes), target_ms: 100 };
}

if (import.meta.main) console.log(JSON.stringify(await measureWorkerFailure()));
