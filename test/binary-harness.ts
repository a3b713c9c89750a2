// Compiled binaries for the binary and update tests. dist/evse-manager-<target> is used when it
// is newer than every source file (CI builds it before `npm test`); otherwise the test builds
// it once into a cache directory (about 2 s per target). Servers run from empty temporary
// directories with a bare environment: no node_modules, no Bun on PATH.
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BYTECODE_ORDER, buildInfo, compile, type BuildInfo, type TargetName } from "../build.ts";

const ROOT = resolve(import.meta.dir, "..");
const SOURCES = ["core", "board-protocol", "rt-worker", "sim", "api", "store", "update", "ocpp", "auth", "mqtt", "web", "main.ts", "launch.ts", "engine.ts", "startup-trace.ts", "build.ts", "package.json", "bytecode.order"];
// One cache per checkout: several checkouts on one machine (worktrees) build different sources.
const CACHE = join(tmpdir(), `evse-manager-test-bin-${createHash("sha256").update(ROOT).digest("hex").slice(0, 12)}`);
export const QEMU = Bun.which("qemu-aarch64");
export const AARCH64_SYSROOT = "/usr/aarch64-linux-gnu";

function newestSource(): number {
  let newest = 0;
  const visit = (path: string) => {
    const st = statSync(path);
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else if (/\.(ts|json)$/.test(path) || path === BYTECODE_ORDER) newest = Math.max(newest, st.mtimeMs);
  };
  for (const s of SOURCES) if (existsSync(join(ROOT, s))) visit(join(ROOT, s));
  return newest;
}

const built = new Map<string, Promise<string>>();

/** The binary for `target`, built from the current sources (and `info`, for variants). */
export function binary(target: TargetName, info?: BuildInfo): Promise<string> {
  const key = `${target}:${info?.commit ?? ""}`;
  let p = built.get(key);
  if (!p) {
    p = (async () => {
      const newest = newestSource();
      const dist = join(ROOT, "dist", `evse-manager-${target}`);
      if (info === undefined && existsSync(dist) && statSync(dist).mtimeMs > newest) return dist;
      mkdirSync(CACHE, { recursive: true });
      const out = join(CACHE, `evse-manager-${target}${info ? `-${info.commit}` : ""}`);
      if (existsSync(out) && statSync(out).mtimeMs > newest) return out;
      // Test files run in parallel processes and may all find the cache stale at once: each
      // compiles to a file of its own and renames it into place, so nobody runs a half-written one.
      const tmp = `${out}.${process.pid}.tmp`;
      await compile(target, tmp, info ?? buildInfo());
      chmodSync(tmp, 0o755);
      renameSync(tmp, out);
      return out;
    })();
    built.set(key, p);
  }
  return p;
}

/** A fresh empty directory holding only a copy of `exe` (named `name`). */
export function emptyDirWith(exe: string, name = "evse-manager"): { dir: string; exe: string } {
  const dir = mkdtempSync(join(tmpdir(), "evse-bin-"));
  const target = join(dir, name);
  copyFileSync(exe, target);
  Bun.spawnSync(["chmod", "755", target]);
  return { dir, exe: target };
}

/** The command line that runs `exe` on this machine (arm64 through qemu-user). */
export function commandFor(exe: string, arm64: boolean): string[] {
  if (!arm64) return [exe];
  if (QEMU === null) throw new Error("qemu-aarch64 is not installed: apt-get install qemu-user libc6-arm64-cross");
  return [QEMU, "-L", AARCH64_SYSROOT, exe];
}

/** A bare environment: what a gateway's service manager gives the program. */
export function bareEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: dir, ...extra };
}

export interface RunningBinary {
  proc: ReturnType<typeof Bun.spawn>;
  output: string[];
  /** Resolves with the first output line matching, waiting up to timeoutMs. */
  waitLine(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  stop(): Promise<number>;
}

const running = new Set<ReturnType<typeof Bun.spawn>>();
process.on("exit", () => {
  for (const p of running) p.kill("SIGKILL");
});

export function run(cmd: string[], cwd: string, env: Record<string, string>): RunningBinary {
  const proc = Bun.spawn(cmd, { cwd, env, stdout: "pipe", stderr: "pipe" });
  running.add(proc);
  const output: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  const onLine = (line: string) => {
    output.push(line);
    for (let k = waiters.length - 1; k >= 0; k--) {
      const m = waiters[k]!.re.exec(line);
      if (m) {
        waiters[k]!.resolve(m);
        waiters.splice(k, 1);
      }
    }
  };
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of stream) {
      buf += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    }
    if (buf) onLine(buf);
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>);
  void pump(proc.stderr as ReadableStream<Uint8Array>);
  return {
    proc,
    output,
    waitLine(re, timeoutMs = 15_000) {
      for (const line of output) {
        const m = re.exec(line);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const w = { re, resolve: (m: RegExpExecArray) => (clearTimeout(t), resolve(m)) };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no line matching ${re} within ${timeoutMs} ms; output:\n${output.join("\n")}`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const code = await waitExit(proc, 8000);
      if (code === -1) proc.kill("SIGKILL");
      running.delete(proc);
      return code;
    },
  };
}

/** Exit code, or -1 after `ms`. */
async function waitExit(proc: Bun.Subprocess, ms: number): Promise<number> {
  return Promise.race([proc.exited, Bun.sleep(ms).then(() => -1)]);
}

/** Polls GET url until it answers `status` (default 200). */
export async function untilStatus(url: string, timeoutMs: number, status = 200): Promise<Response> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => null);
    if (r?.status === status) return r;
    if (Date.now() > end) throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${r?.status ?? "no answer"})`);
    await Bun.sleep(100);
  }
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
