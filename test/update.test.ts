// Over-the-air updates end to end with real compiled binaries in temporary directories: the
// supervisor runs the installed binary, updates arrive over HTTP, the restart is a real process
// start of the new file. An upload that cannot run here is refused before anything changes; a
// new binary that cannot be started, exits, hangs or never becomes healthy is rolled back; and a
// power cut (kill -9 of the supervisor and its child) at every step of the swap ends with the old
// binary serving after the restart.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, linkSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildInfo } from "../build.ts";
import { SWAP_STEPS, STOP_AT_ENV, type SwapStep } from "../update/swap-steps.ts";
import { bareEnv, binary, cleanup, emptyDirWith, run, untilStatus, type RunningBinary } from "./binary-harness.ts";

const TOKEN = "update-test-token";
const dirs: string[] = [];
const procs: RunningBinary[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  for (const d of dirs) cleanup(d);
}, 30_000);

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
/** The file itself: a hard link or rename keeps it, any replacement or write changes it. */
const identity = (path: string) => {
  const st = statSync(path);
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
};

let A: string; // the binary installed first
let B: string; // a good update (same sources, another commit baked in)
let ARM: string; // a good binary for the wrong machine
let FAKE: string; // a small program whose behaviour is chosen by the file `fake-mode` beside it
let NO_INTERP: string; // /bin/true with its program interpreter path changed to one that does not exist
let HEADER_ONLY: string; // 120 bytes whose header merely claims ELF64/x86-64
let keyDir: string;
let publicKey: string;

/** What FAKE does (read from `fake-mode` in the directory of the file being run). */
type FakeMode = "exit" | "hang" | "run-exit" | "run-hang" | "run-unhealthy";
const FAKE_SOURCE = `
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
const mode = readFileSync(join(dirname(process.execPath), "fake-mode"), "utf8").trim();
const version = process.argv.includes("--version");
if (mode === "exit" || (mode === "run-exit" && !version)) process.exit(3);
if (mode === "hang" || (mode === "run-hang" && !version)) setInterval(() => {}, 1000);
else if (version) console.log("9.9.9 (commit fake)");
else if (mode === "run-unhealthy") {
  const config = JSON.parse(readFileSync(process.argv[process.argv.indexOf("--config") + 1], "utf8"));
  Bun.serve({ hostname: "127.0.0.1", port: config.api.port, fetch: () => Response.json({ error: "board_not_answering" }, { status: 503 }) });
  process.send?.({ kind: "listening", url: "http://127.0.0.1:" + config.api.port });
}
`;

function cli(exe: string, args: string[], cwd: string): string {
  const r = Bun.spawnSync([exe, ...args], { cwd, env: bareEnv(cwd), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout.toString();
}

const signatures = new Map<string, string>();

/** The detached signature, made by the binary's own sign-update (once per file: they do not change). */
function signature(file: string): string {
  let sig = signatures.get(file);
  if (sig === undefined) {
    cli(A, ["sign-update", "--key", join(keyDir, "key.pem"), file, "--out", `${file}.sig`], keyDir);
    sig = readFileSync(`${file}.sig`, "utf8").trim();
    signatures.set(file, sig);
  }
  return sig;
}

beforeAll(async () => {
  A = await binary("linux-x64");
  B = await binary("linux-x64", { ...buildInfo(), commit: "update-test-b" });
  ARM = await binary("linux-arm64");
  const work = emptyDirWith(A);
  dirs.push(work.dir);
  keyDir = work.dir;
  writeFileSync(join(work.dir, "fake.ts"), FAKE_SOURCE);
  const r = Bun.spawnSync([process.execPath, "build", "--compile", "fake.ts", "--outfile", "fake"], { cwd: work.dir, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`building the fake binary failed: ${r.stderr}`);
  FAKE = join(work.dir, "fake");

  const elf = readFileSync("/bin/true");
  const at = elf.indexOf("ld-linux-x86-64.so.2");
  if (at < 0) throw new Error("/bin/true names no ld-linux-x86-64.so.2 interpreter");
  elf.write("ld-linux-x86-64.so.9", at);
  NO_INTERP = join(work.dir, "no-interp");
  writeFileSync(NO_INTERP, elf, { mode: 0o755 });

  const header = Buffer.alloc(120);
  header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // ELF, 64-bit, little-endian, version 1
  header.writeUInt16LE(2, 16); // ET_EXEC
  header.writeUInt16LE(62, 18); // x86-64
  header.writeUInt32LE(1, 20);
  HEADER_ONLY = join(work.dir, "header-only");
  writeFileSync(HEADER_ONLY, header, { mode: 0o755 });

  const out = cli(A, ["sign-update", "--generate-key", join(keyDir, "key.pem")], keyDir);
  publicKey = /update\.public_key: (\S+)/.exec(out)![1]!;
}, 120_000);

interface Gateway {
  dir: string;
  exe: string;
  url: string;
  sup: RunningBinary;
  /** Starts the supervisor again (after it was stopped or killed); waits until healthy unless told not to. */
  restart(env?: Record<string, string>, waitHealthy?: boolean): Promise<void>;
  /** Power loss: SIGKILL for the supervisor and the last child it started. */
  powerCut(): Promise<void>;
  upload(file: string | Uint8Array, sig: string | null, query?: string): Promise<{ status: number; body: any }>;
  fakeMode(mode: FakeMode): void;
}

let nextPort = 18_600 + Math.floor(Math.random() * 500);

interface GatewayOptions {
  maxSizeMb?: number;
  healthTimeoutS?: number;
  env?: Record<string, string>;
  /** Run the supervisor from the managed file itself instead of a separate copy (--binary). */
  selfSupervised?: boolean;
}

/**
 * A gateway directory with binary A as `evse-manager`, under a supervisor that is healthy. The
 * supervisor runs from A's own file elsewhere with `--binary` (the installation
 * docs/integrators.md describes), unless selfSupervised.
 */
async function gateway(options: GatewayOptions = {}): Promise<Gateway> {
  const { dir, exe } = emptyDirWith(A);
  dirs.push(dir);
  const port = nextPort++;
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({
      api: { port, token: TOKEN },
      storage: { path: ":memory:" },
      update: { public_key: publicKey, max_size_mb: options.maxSizeMb ?? 256, health_timeout_s: options.healthTimeoutS ?? 30 },
    }),
  );
  const cmd = options.selfSupervised ? [exe, "supervise", "--config", "config.json"] : [A, "supervise", "--binary", exe, "--config", "config.json"];
  const url = `http://127.0.0.1:${port}`;
  const g: Gateway = {
    dir,
    exe,
    url,
    sup: null as unknown as RunningBinary,
    async restart(env = {}, waitHealthy = true) {
      g.sup = run(cmd, dir, bareEnv(dir, env));
      procs.push(g.sup);
      if (waitHealthy) await healthyOrExplain(g, 15_000);
    },
    async powerCut() {
      const started = g.sup.output.map((l) => /supervisor: started .* \(pid (\d+)\)/.exec(l)).filter((m) => m !== null);
      const childPid = Number(started.at(-1)![1]);
      for (const pid of [g.sup.proc.pid, childPid]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await g.sup.proc.exited;
      // The child is reaped by init once its parent is gone; wait until it no longer exists.
      for (let k = 0; k < 100 && existsSync(`/proc/${childPid}`) && !readFileSync(`/proc/${childPid}/stat`, "utf8").includes(") Z"); k++) await Bun.sleep(50);
    },
    async upload(file, sig, query = "") {
      const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}`, "content-type": "application/octet-stream" };
      if (sig !== null) headers["x-update-signature"] = sig;
      const body = typeof file === "string" ? Bun.file(file) : file;
      const r = await fetch(`${url}/api/v1/system/update${query}`, { method: "POST", headers, body });
      return { status: r.status, body: await r.json() };
    },
    fakeMode(mode) {
      writeFileSync(join(dir, "fake-mode"), mode);
    },
  };
  await g.restart(options.env);
  return g;
}

/** Nothing changed: the same binary in place, no update files beside it, still healthy. */
async function unchanged(g: Gateway, before: string): Promise<void> {
  expect(identity(g.exe)).toBe(before);
  for (const suffix of [".previous", ".staging", ".trial", ".rejected"]) expect(existsSync(g.exe + suffix)).toBe(false);
  expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
  expect(g.sup.output.some((l) => l.includes("supervisor: restarting"))).toBe(false);
}

/** Waits for /healthz 200; on failure the error carries the supervisor's output. */
async function healthyOrExplain(g: Gateway, withinMs: number): Promise<void> {
  try {
    await untilStatus(`${g.url}/healthz`, withinMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nsupervisor output:\n${g.sup.output.join("\n")}`);
  }
}

/** The old binary (the very file, by identity) is in place and serving, with no update in flight. */
async function oldServing(g: Gateway, before: string, withinMs: number): Promise<void> {
  await healthyOrExplain(g, withinMs);
  expect(identity(g.exe)).toBe(before);
  expect(existsSync(`${g.exe}.trial`)).toBe(false);
  expect(existsSync(`${g.exe}.staging`)).toBe(false);
}

describe("update rejected: nothing changes", () => {
  let g: Gateway;
  let before: string;
  beforeAll(async () => {
    g = await gateway({ maxSizeMb: 120, selfSupervised: true });
    before = identity(g.exe);
  }, 30_000);

  test("an unsigned upload is refused as missing_signature", async () => {
    const r = await g.upload(copyTrue(), null);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("missing_signature");
    await unchanged(g, before);
  }, 30_000);

  test("a tampered binary (one byte changed after signing) is refused as bad_signature", async () => {
    const sig = signature(copyTrue());
    const bytes = new Uint8Array(readFileSync(copyTrue()));
    bytes[bytes.length >> 1]! ^= 0x01;
    const r = await g.upload(bytes, sig);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("bad_signature");
    expect(r.body.message).toContain("does not match");
    await unchanged(g, before);
  }, 30_000);

  test("a correctly signed binary for arm64 is refused on x64 as wrong_architecture", async () => {
    const r = await g.upload(ARM, signature(ARM));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("wrong_architecture");
    expect(r.body.message).toBe("the upload is built for arm64, this machine runs x64");
    await unchanged(g, before);
  }, 30_000);

  test("a signed x86-64 ELF whose program interpreter does not exist is refused as interpreter_missing", async () => {
    const r = await g.upload(NO_INTERP, signature(NO_INTERP));
    expect(r.status).toBe(422);
    expect(r.body.error).toBe("interpreter_missing");
    expect(r.body.message).toBe("the upload needs the program interpreter /lib64/ld-linux-x86-64.so.9, which does not exist on this machine");
    await unchanged(g, before);
  }, 30_000);

  test("a signed 120-byte file whose header merely claims ELF64/x86-64 is refused as not_an_executable", async () => {
    const r = await g.upload(HEADER_ONLY, signature(HEADER_ONLY));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("not_an_executable");
    expect(r.body.message).toContain("malformed ELF header");
    await unchanged(g, before);
  }, 30_000);

  test("a signed executable that exits at once, even on --version, is refused as does_not_run", async () => {
    g.fakeMode("exit");
    const r = await g.upload(FAKE, signature(FAKE));
    expect(r.status).toBe(422);
    expect(r.body.error).toBe("does_not_run");
    expect(r.body.message).toBe("the upload exited with code 3 on `--version`: it cannot run on this machine");
    await unchanged(g, before);
  }, 30_000);

  test("a signed executable that prints no version line is refused as does_not_run", async () => {
    const file = copyTrue();
    const r = await g.upload(file, signature(file));
    expect(r.status).toBe(422);
    expect(r.body.error).toBe("does_not_run");
    expect(r.body.message).toContain("printed no version line");
    await unchanged(g, before);
  }, 30_000);

  test("a signed executable that hangs on --version is killed after 5 s and refused as version_timeout", async () => {
    g.fakeMode("hang");
    const r = await g.upload(FAKE, signature(FAKE));
    expect(r.status).toBe(422);
    expect(r.body.error).toBe("version_timeout");
    expect(r.body.message).toBe("the upload did not finish `--version` within 5 s: it cannot run on this machine");
    // The whole process group was killed: no copy of the staged file is left running.
    const left = Bun.spawnSync(["pgrep", "-f", `${g.exe}.staging`], { stdout: "pipe" }).stdout.toString().trim();
    expect(left).toBe("");
    await unchanged(g, before);
  }, 30_000);

  test("an upload over update.max_size_mb is refused with 413, declared or streamed", async () => {
    const big = new Uint8Array(121 * 1024 * 1024);
    const declared = await g.upload(big, Buffer.alloc(64).toString("base64"));
    expect(declared.status).toBe(413);
    expect(declared.body.error).toBe("update_too_large");
    // Chunked, without a Content-Length: the limit holds while the body streams to disk.
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ >= 121) c.close();
        else c.enqueue(chunk);
      },
    });
    const r = await fetch(`${g.url}/api/v1/system/update`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "x-update-signature": Buffer.alloc(64).toString("base64") },
      body: stream,
    });
    expect(r.status).toBe(413);
    expect(((await r.json()) as any).error).toBe("update_too_large");
    await unchanged(g, before);
  }, 60_000);

  test("a malformed signature header and a missing token are refused", async () => {
    expect((await g.upload(copyTrue(), "not base64!")).body.error).toBe("invalid_signature");
    const r = await fetch(`${g.url}/api/v1/system/update`, { method: "POST", body: "x" });
    expect(r.status).toBe(401);
    await unchanged(g, before);
  }, 30_000);
});

/** A copy of /bin/true beside the key (sign-update writes FILE.sig next to FILE). */
function copyTrue(): string {
  const target = join(keyDir, "true");
  if (!existsSync(target)) copyFileSync("/bin/true", target);
  return target;
}

describe("update accepted", () => {
  test("a signed binary is swapped in, the old one kept as .previous, and the program restarts into it", async () => {
    const supervisorFile = identity(A);
    const g = await gateway();
    const before = identity(g.exe);
    const r = await g.upload(B, signature(B));
    expect(r.status).toBe(202);
    const shaB = sha(B);
    expect(r.body).toMatchObject({ installed: true, sha256: shaB, restart: "now", active_transactions: [] });
    const trial = await g.sup.waitLine(/new binary on trial \(pid (\d+)\)/);
    await g.sup.waitLine(/update committed/);
    expect(sha(g.exe)).toBe(shaB);
    expect(identity(`${g.exe}.previous`)).toBe(before);
    expect(existsSync(`${g.exe}.trial`)).toBe(false);
    // The process now serving is the new file (its inode), which reports the new commit.
    expect(statSync(`/proc/${trial[1]}/exe`).ino).toBe(statSync(g.exe).ino);
    expect(cli(g.exe, ["--version"], g.dir)).toContain("(commit update-test-b)");
    expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
    // The supervisor's own file is outside the update directory and was not touched.
    expect(identity(A)).toBe(supervisorFile);
  }, 60_000);
});

describe("update rolled back: the old binary serves again within the health timeout", () => {
  test("a new binary that exits at start is replaced by .previous, which is started again", async () => {
    const g = await gateway({ healthTimeoutS: 2 });
    const before = identity(g.exe);
    g.fakeMode("run-exit");
    expect((await g.upload(FAKE, signature(FAKE))).status).toBe(202);
    await g.sup.waitLine(/the new binary exited \(3\): rolled back to the previous one/, 20_000);
    expect(sha(`${g.exe}.rejected`)).toBe(sha(FAKE));
    await oldServing(g, before, 2000);
  }, 30_000);

  test("a new binary that hangs is stopped after update.health_timeout_s and rolled back", async () => {
    const g = await gateway({ healthTimeoutS: 2 });
    const before = identity(g.exe);
    g.fakeMode("run-hang");
    expect((await g.upload(FAKE, signature(FAKE))).status).toBe(202);
    await g.sup.waitLine(/the new binary was not healthy within 2 s: rolled back/, 20_000);
    await oldServing(g, before, 2000);
  }, 30_000);

  test("a new binary that serves but never becomes healthy is stopped and rolled back", async () => {
    const g = await gateway({ healthTimeoutS: 2 });
    const before = identity(g.exe);
    g.fakeMode("run-unhealthy");
    expect((await g.upload(FAKE, signature(FAKE))).status).toBe(202);
    // The new binary does serve: its /healthz answers 503.
    await untilStatus(`${g.url}/healthz`, 10_000, 503);
    await g.sup.waitLine(/the new binary was not healthy within 2 s: rolled back/, 20_000);
    await oldServing(g, before, 2000);
  }, 30_000);

  test("a new binary that cannot be executed (ENOENT from posix_spawn) is rolled back at once", async () => {
    // The upload checks would refuse this file, so it takes the place of a good update at the
    // last moment: the program is stopped just after the swap, the file in place is exchanged
    // for one whose interpreter does not exist, and the program goes on to restart into it.
    const g = await gateway({ healthTimeoutS: 2, env: { [STOP_AT_ENV]: "swapped" } });
    const before = identity(g.exe);
    const upload = g.upload(B, signature(B));
    const stopped = await g.sup.waitLine(/stopped at swap step swapped \(pid (\d+)\)/, 20_000);
    rmSync(g.exe);
    copyFileSync(NO_INTERP, g.exe);
    process.kill(Number(stopped[1]), "SIGCONT");
    expect((await upload).status).toBe(202);
    await g.sup.waitLine(/the new binary cannot be started \(ENOENT\): rolled back to the previous one/, 10_000);
    expect(sha(`${g.exe}.rejected`)).toBe(sha(NO_INTERP));
    await oldServing(g, before, 2000);
  }, 30_000);

  for (const [name, file, code] of [
    ["whose interpreter does not exist", () => NO_INTERP, "ENOENT"],
    ["that is only an ELF header", () => HEADER_ONLY, "ENOEXEC"],
  ] as const) {
    test(`a supervisor started with a binary in place ${name} starts .previous instead (${code})`, async () => {
      const g = await gateway({ healthTimeoutS: 2 });
      const before = identity(g.exe);
      await g.sup.stop();
      // The state a manual copy (or a bit flip) leaves: a committed binary that cannot run.
      linkSync(g.exe, `${g.exe}.previous`);
      rmSync(g.exe);
      copyFileSync(file(), g.exe);
      await g.restart({}, false);
      await g.sup.waitLine(new RegExp(`the binary cannot be started \\(${code}\\): rolled back to the previous one`));
      await oldServing(g, before, 2000);
    }, 30_000);
  }
});

describe("power loss (kill -9 of the supervisor and its child) at every step of the swap", () => {
  const HEALTH_TIMEOUT_S = 5;
  let g: Gateway;
  let before: string;
  beforeAll(async () => {
    g = await gateway({ healthTimeoutS: HEALTH_TIMEOUT_S });
    before = identity(g.exe);
    g.fakeMode("run-exit");
    await g.sup.stop();
  }, 30_000);

  const ROLLBACK_STEPS: readonly SwapStep[] = ["rollback-rejected", "rollback-restored"];
  /** What the supervisor's recovery finds at the restart: deterministic for each step. */
  const RECOVERY: Record<SwapStep, RegExp> = {
    staged: /removed the leftovers of an interrupted upload/,
    "previous-tmp": /removed the leftovers of an interrupted upload/,
    previous: /removed the leftovers of an interrupted upload/,
    "marker-tmp": /removed the leftovers of an interrupted upload/,
    marked: /an interrupted update had left the old binary in place/,
    swapped: /interrupted before it proved healthy: rolled back to the previous binary/,
    trial: /interrupted before it proved healthy: rolled back to the previous binary/,
    "rollback-rejected": /interrupted before it proved healthy: rolled back to the previous binary/,
    "rollback-restored": /an interrupted update had left the old binary in place/,
  };
  for (const step of SWAP_STEPS) {
    test(`${step}: after the restart the old binary serves and no update is in flight`, async () => {
      await g.restart({ [STOP_AT_ENV]: step });
      // The rollback steps are reached by an update that fails (exits at once); the others by a good one.
      const update = ROLLBACK_STEPS.includes(step) ? FAKE : B;
      const upload = g.upload(update, signature(update)).catch(() => null);
      await g.sup.waitLine(new RegExp(`stopped at swap step ${step} \\(pid \\d+\\)`), 20_000);
      await g.powerCut();
      await upload;
      await g.restart({}, false);
      await oldServing(g, before, HEALTH_TIMEOUT_S * 1000);
      await g.sup.waitLine(RECOVERY[step], 1000);
      await g.sup.stop();
    }, 30_000);
  }
});
