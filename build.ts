// `npm run build`: one self-contained executable per gateway architecture, compiled by Bun with
// the real-time worker and the simulated board thread as extra entry points (they are spawned by
// path, rt-worker/thread-entry.ts), node-hid's native addon for that architecture embedded
// (rt-worker/transport/hid-addon.ts), version and git commit baked in. Next to each binary a
// zstd-compressed copy, and dist/SHA256SUMS over all of them (`sha256sum -c SHA256SUMS`).
//
// The bytecode is laid out by bytecode.order (profile-guided: the functions a start of the charger
// runs come first, so the binary reads and keeps less of itself; README, "Measured figures"). The
// profile holds function hashes, not code, and still applies after code changes; record it anew
// with --record-order when many functions have changed.
//
//   bun build.ts [--target linux-x64|linux-arm64]... [--outdir DIR] [--no-compress]
//   bun build.ts --record-order      rewrites bytecode.order from one start of the linux-x64 binary
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { parseArgs as parseFlags } from "node:util";
import pkg from "./package.json" with { type: "json" };

export const TARGETS = {
  "linux-x64": { bun: "bun-linux-x64", hid: "HID_hidraw-linux-x64" },
  "linux-arm64": { bun: "bun-linux-arm64", hid: "HID_hidraw-linux-arm64" },
} as const;
export type TargetName = keyof typeof TARGETS;

const ROOT = import.meta.dir;
/** The binary starts at the first; launch.ts loads main.ts or update/cli.ts by entry name, the
 *  threads are spawned by their path from the project root (rt-worker/thread-entry.ts). */
export const ENTRYPOINTS = ["launch.ts", "main.ts", "update/cli.ts", "rt-worker/worker.ts", "sim/board/thread.ts"];
/** The bytecode layout profile (see the top of this file). */
export const BYTECODE_ORDER = join(ROOT, "bytecode.order");

export interface BuildInfo {
  version: string;
  commit: string;
}

function git(args: string[]): string | null {
  const r = Bun.spawnSync(["git", ...args], { cwd: ROOT, stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : null;
}

export function buildInfo(): BuildInfo {
  const sha = git(["rev-parse", "--short=12", "HEAD"]) ?? "unknown";
  const dirty = (git(["status", "--porcelain", "--untracked-files=no"]) ?? "") !== "";
  return { version: pkg.version, commit: dirty ? `${sha}-dirty` : sha };
}

/** Replaces the addon loader with a static require of the target's prebuild: Bun embeds it. */
function hidAddonPlugin(prebuild: string): Bun.BunPlugin {
  const addon = join(ROOT, "node_modules/node-hid/prebuilds", prebuild, "node-napi-v4.node");
  return {
    name: "embed-node-hid-addon",
    setup(build) {
      build.onLoad({ filter: /rt-worker[\\/]transport[\\/]hid-addon\.ts$/ }, () => ({
        loader: "ts",
        contents: `export function loadHidAddon() { return require(${JSON.stringify(addon)}); }\n`,
      }));
    },
  };
}

export async function compile(target: TargetName, outfile: string, info: BuildInfo): Promise<void> {
  const t = TARGETS[target];
  const result = await Bun.build({
    entrypoints: ENTRYPOINTS.map((e) => join(ROOT, e)),
    root: ROOT,
    compile: {
      target: t.bun,
      outfile,
      // A gateway's working directory is nobody's business: no .env or bunfig.toml from it.
      autoloadDotenv: false,
      autoloadBunfig: false,
      // process.execve is "experimental" to Bun and says so on stderr when it fails (launch.ts
      // then runs on with the JIT and the log says why): not a line for an installed charger.
      execArgv: ["--disable-warning=ExperimentalWarning"],
      bytecodeOrder: existsSync(BYTECODE_ORDER) && BYTECODE_ORDER,
    },
    minify: { whitespace: true, syntax: true, identifiers: false },
    bytecode: true,
    // Each module loaded by import() is a chunk of its own, read only when imported: the OCPP
    // client with its schemas (1.2 MB), MQTT (0.5 MB) and the dashboard stay out of a start
    // that does not use them. Modules shared by entry points are shared chunks, one copy each.
    splitting: true,
    format: "esm",
    define: {
      "process.env.EVSE_MANAGER_COMMIT": JSON.stringify(info.commit),
    },
    plugins: [hidAddonPlugin(t.hid)],
    throw: false,
  });
  if (!result.success) {
    throw new Error(`build of ${target} failed:\n${result.logs.map((l) => String(l)).join("\n")}`);
  }
  chmodSync(outfile, 0o755);
}

/**
 * Records bytecode.order: the linux-x64 binary (built without a profile) runs as a gateway starts
 * it, from an empty directory with a bare environment and a simulated board, until /healthz
 * answers 200; then the requests a dashboard and an integration make first, 3 s idle, SIGTERM.
 * The main thread and the board threads are recorded (the runtime writes the profile at exit).
 */
async function recordOrder(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "evse-order-"));
  try {
    const exe = join(dir, "evse-manager");
    const old = existsSync(BYTECODE_ORDER);
    if (old) renameSync(BYTECODE_ORDER, `${BYTECODE_ORDER}.old`);
    try {
      await compile("linux-x64", exe, buildInfo());
    } finally {
      if (old) renameSync(`${BYTECODE_ORDER}.old`, BYTECODE_ORDER);
    }
    const port = 19_700 + Math.floor(Math.random() * 200);
    writeFileSync(join(dir, "config.json"), JSON.stringify({ api: { port } }));
    const out = join(dir, "recorded.order");
    const proc = Bun.spawn([exe, "--config", "config.json"], {
      cwd: dir,
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: dir, BUN_BYTECODE_ORDER_OUT: out },
      stdout: "ignore",
      stderr: "inherit",
    });
    const base = `http://127.0.0.1:${port}`;
    const end = Date.now() + 20_000;
    while ((await fetch(`${base}/healthz`).catch(() => null))?.status !== 200) {
      if (Date.now() > end) throw new Error("build.ts --record-order: the binary did not become healthy in 20 s");
      await Bun.sleep(20);
    }
    await Bun.sleep(3000);
    proc.kill("SIGTERM");
    await proc.exited;
    writeFileSync(BYTECODE_ORDER, readFileSync(out));
    chmodSync(BYTECODE_ORDER, 0o644);
    process.stdout.write(`bytecode.order: ${readFileSync(out, "utf8").split("\n").length - 1} lines\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

function parseArgs(argv: string[]): { targets: TargetName[]; outdir: string; compress: boolean } {
  const usage = `--target ${Object.keys(TARGETS).join("|")} (repeatable), --outdir DIR, --no-compress`;
  let values;
  try {
    ({ values } = parseFlags({
      args: argv,
      options: { target: { type: "string", multiple: true }, outdir: { type: "string" }, "no-compress": { type: "boolean" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new Error(`build.ts: ${(err as Error).message} (${usage})`);
  }
  const targets: TargetName[] = [];
  for (const t of values.target ?? []) {
    if (!(t in TARGETS)) throw new Error(`build.ts: unknown target "${t}" (${usage})`);
    targets.push(t as TargetName);
  }
  if (values.outdir === "") throw new Error(`build.ts: --outdir needs a directory (${usage})`);
  return {
    targets: targets.length > 0 ? targets : (Object.keys(TARGETS) as TargetName[]),
    outdir: values.outdir !== undefined ? resolve(values.outdir) : join(ROOT, "dist"),
    compress: values["no-compress"] !== true,
  };
}

if (import.meta.main && process.argv[2] === "--record-order") {
  await recordOrder();
} else if (import.meta.main) {
  const { targets, outdir, compress } = parseArgs(process.argv.slice(2));
  mkdirSync(outdir, { recursive: true });
  const info = buildInfo();
  const files: string[] = [];
  for (const target of targets) {
    const t0 = performance.now();
    const out = join(outdir, `evse-manager-${target}`);
    // Built beside, renamed into place: a half-written binary never carries the final name.
    await compile(target, `${out}.tmp`, info);
    renameSync(`${out}.tmp`, out);
    files.push(out);
    if (compress) {
      writeFileSync(`${out}.zst`, Bun.zstdCompressSync(readFileSync(out), { level: 9 }));
      files.push(`${out}.zst`);
    }
    process.stdout.write(`${basename(out)}  ${info.version} (${info.commit})  ${Math.round(performance.now() - t0)} ms\n`);
  }
  const sums = files.map((f) => `${sha256(f)}  ${basename(f)}\n`).join("");
  writeFileSync(join(outdir, "SHA256SUMS"), sums);
  process.stdout.write(sums);
}
