// HTTP throughput of the compiled binary as shipped (simulated board, idle): GET
// /api/v1/evses/1/vars against a bare Bun.serve (bench/bare-serve.ts) that answers with the same
// JSON bytes, run in the same engine mode. The same load client (bench/load-client.ts) drives
// both, in alternating runs, so a change in the machine's load hits both alike.
//   bun bench/api.ts      prints one JSON object
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INTERPRETER_ENV } from "../engine.ts";
import { bareEnv, binary, cleanup, emptyDirWith, untilStatus } from "../test/binary-harness.ts";
import { listeningPort } from "./idle.ts";

const ROUNDS = Number(process.env.BENCH_API_ROUNDS ?? 3);
const RUN_MS = Number(process.env.BENCH_API_RUN_MS ?? 3000);
const CONCURRENCY = 32;
const BUN = process.execPath;

export interface ApiFigures {
  get_vars_rps: number;
  bare_bun_serve_rps: number;
  ratio: number;
  /** Requests each side served per run, in run order. */
  runs: { get_vars: number[]; bare: number[] };
  concurrency: number;
  run_ms: number;
}

/** Requests per second the load client got answered from `url` in one run. */
async function load(url: string): Promise<number> {
  const client = Bun.spawn([BUN, join(import.meta.dir, "load-client.ts"), url, String(RUN_MS), String(CONCURRENCY)], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(client.stdout).text();
  await client.exited;
  const { requests } = JSON.parse(out.trim().split("\n").pop()!) as { requests: number };
  return Math.round((requests * 1000) / RUN_MS);
}

async function firstLine(stdout: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stdout.getReader();
  const dec = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text.split("\n")[0]!;
}

export async function measureApi(): Promise<ApiFigures> {
  const { dir, exe } = emptyDirWith(await binary("linux-x64"));
  const scratch = mkdtempSync(join(tmpdir(), "evse-api-"));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ api: { port: 0 }, storage: { path: ":memory:" } }));
  const charger = Bun.spawn([exe, "--config", "config.json"], { cwd: dir, env: bareEnv(dir), stdout: "pipe", stderr: "ignore" });
  let bare: ReturnType<typeof Bun.spawn> | null = null;
  try {
    const port = await listeningPort(charger.stdout);
    const varsUrl = `http://127.0.0.1:${port}/api/v1/evses/1/vars`;
    await untilStatus(`http://127.0.0.1:${port}/healthz`, 10_000);
    await Bun.sleep(1000); // the first readings are in
    const body = join(scratch, "vars.json");
    writeFileSync(body, new Uint8Array(await (await fetch(varsUrl)).arrayBuffer()));
    // The same engine as the binary runs in (launch.ts): the comparison is of the HTTP layers.
    const { BUN_JSC_useJIT: _, ...env } = process.env;
    bare = Bun.spawn([BUN, join(import.meta.dir, "bare-serve.ts"), body], { env: { ...env, ...INTERPRETER_ENV }, stdout: "pipe", stderr: "inherit" });
    const bareUrl = `http://127.0.0.1:${await firstLine(bare.stdout as ReadableStream<Uint8Array>)}/api/v1/evses/1/vars`;
    await load(varsUrl).then(() => load(bareUrl)); // warm-up, not counted
    const runs = { get_vars: [] as number[], bare: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      runs.get_vars.push(await load(varsUrl));
      runs.bare.push(await load(bareUrl));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const get_vars_rps = median(runs.get_vars);
    const bare_bun_serve_rps = median(runs.bare);
    return { get_vars_rps, bare_bun_serve_rps, ratio: Math.round((get_vars_rps / bare_bun_serve_rps) * 100) / 100, runs, concurrency: CONCURRENCY, run_ms: RUN_MS };
  } finally {
    bare?.kill();
    charger.kill("SIGTERM");
    await charger.exited;
    if (bare) await bare.exited;
    cleanup(dir);
    cleanup(scratch);
  }
}

if (import.meta.main) {
  process.stdout.write(JSON.stringify(await measureApi()) + "\n");
}
