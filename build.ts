// `npm run build`: one self-contained executable per gateway architecture, compiled by Bun with
// the real-time worker and the simulated board thread as extra entry points (they are spawned by
// path, rt-worker/thread-entry.ts), node-hid's native addon for that architecture embedded
// (rt-worker/transport/hid-addon.ts), version and git commit baked in. Next to each binary a
// zstd-compressed copy, and dist/SHA256SUMS over all of them (`sha256sum -c SHA256SUMS`).
//
//   bun build.ts [--target linux-x64|linux-arm64]... [--outdir DIR] [--no-compress]
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
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
const ENTRYPOINTS = ["launch.ts", "main.ts", "update/cli.ts", "rt-worker/worker.ts", "sim/board/thread.ts"];

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
    },
    minify: { whitespace: true, syntax: true, identifiers: false },
    bytecode: true,
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

if (import.meta.main) {
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
