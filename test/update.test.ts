// Over-the-air updates end to end with real compiled binaries in temporary directories: the
// supervisor runs the installed binary, updates arrive over HTTP, the restart is a real process
// start of the new file, and a new binary that crashes or never becomes healthy is rolled back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildInfo } from "../build.ts";
import { bareEnv, binary, cleanup, emptyDirWith, run, untilStatus, type RunningBinary } from "./binary-harness.ts";

const TOKEN = "update-test-token";
const dirs: string[] = [];
const procs: RunningBinary[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  for (const d of dirs) cleanup(d);
}, 30_000);

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

let A: string; // the binary installed first
let B: string; // a good update (same sources, another commit baked in)
let ARM: string; // a good binary for the wrong machine
let BAD: string; // exits at once, or with BAD_MODE=hang never listens
let keyDir: string;
let publicKey: string;

function cli(exe: string, args: string[], cwd: string): string {
  const r = Bun.spawnSync([exe, ...args], { cwd, env: bareEnv(cwd), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout.toString();
}

/** The detached signature, made by the binary's own sign-update. */
function signature(file: string): string {
  cli(A, ["sign-update", "--key", join(keyDir, "key.pem"), file, "--out", `${file}.sig`], keyDir);
  return readFileSync(`${file}.sig`, "utf8").trim();
}

beforeAll(async () => {
  A = await binary("linux-x64");
  B = await binary("linux-x64", { ...buildInfo(), commit: "update-test-b" });
  ARM = await binary("linux-arm64");
  const bad = emptyDirWith(A);
  dirs.push(bad.dir);
  writeFileSync(join(bad.dir, "bad.ts"), 'if (process.env.BAD_MODE === "hang") setInterval(() => {}, 1000); else process.exit(3);\n');
  const r = Bun.spawnSync([process.execPath, "build", "--compile", "bad.ts", "--outfile", "bad"], { cwd: bad.dir, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`building the bad binary failed: ${r.stderr}`);
  BAD = join(bad.dir, "bad");
  keyDir = bad.dir;
  const out = cli(A, ["sign-update", "--generate-key", join(keyDir, "key.pem")], keyDir);
  publicKey = /update\.public_key: (\S+)/.exec(out)![1]!;
}, 120_000);

interface Gateway {
  dir: string;
  exe: string;
  url: string;
  sup: RunningBinary;
  upload(file: string | Uint8Array, sig: string | null, query?: string): Promise<{ status: number; body: any }>;
}

let nextPort = 18_600 + Math.floor(Math.random() * 500);

/** A gateway directory with binary A under `evse-manager supervise`, healthy. */
async function gateway(options: { maxSizeMb?: number; healthTimeoutS?: number; env?: Record<string, string> } = {}): Promise<Gateway> {
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
  const sup = run([exe, "supervise", "--config", "config.json"], dir, bareEnv(dir, options.env));
  procs.push(sup);
  const url = `http://127.0.0.1:${port}`;
  await untilStatus(`${url}/healthz`, 15_000);
  return {
    dir,
    exe,
    url,
    sup,
    async upload(file, sig, query = "") {
      const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}`, "content-type": "application/octet-stream" };
      if (sig !== null) headers["x-update-signature"] = sig;
      const body = typeof file === "string" ? Bun.file(file) : file;
      const r = await fetch(`${url}/api/v1/system/update${query}`, { method: "POST", headers, body });
      return { status: r.status, body: await r.json() };
    },
  };
}

/** Nothing changed: the same binary in place, no update files beside it, still healthy. */
async function unchanged(g: Gateway, before: string): Promise<void> {
  expect(sha(g.exe)).toBe(before);
  for (const suffix of [".previous", ".staging", ".trial", ".rejected"]) expect(existsSync(g.exe + suffix)).toBe(false);
  expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
  expect(g.sup.output.some((l) => l.includes("supervisor: restarting"))).toBe(false);
}

describe("update rejected: nothing changes", () => {
  let g: Gateway;
  let before: string;
  beforeAll(async () => {
    g = await gateway({ maxSizeMb: 120 });
    before = sha(g.exe);
  }, 30_000);

  test("an unsigned upload is refused as missing_signature", async () => {
    const r = await g.upload(B, null);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("missing_signature");
    await unchanged(g, before);
  }, 30_000);

  test("a tampered binary (one byte changed after signing) is refused as bad_signature", async () => {
    const sig = signature(B);
    const bytes = new Uint8Array(readFileSync(B));
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
    expect((await g.upload(B, "not base64!")).body.error).toBe("invalid_signature");
    const r = await fetch(`${g.url}/api/v1/system/update`, { method: "POST", body: "x" });
    expect(r.status).toBe(401);
    await unchanged(g, before);
  }, 30_000);
});

describe("update accepted", () => {
  test("a signed binary is swapped in, the old one kept as .previous, and the program restarts into it", async () => {
    const g = await gateway();
    const before = sha(g.exe);
    const r = await g.upload(B, signature(B));
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ installed: true, sha256: sha(B), restart: "now", active_transactions: [] });
    const trial = await g.sup.waitLine(/new binary on trial \(pid (\d+)\)/);
    await g.sup.waitLine(/update committed/);
    expect(sha(g.exe)).toBe(sha(B));
    expect(sha(`${g.exe}.previous`)).toBe(before);
    expect(existsSync(`${g.exe}.trial`)).toBe(false);
    // The process now serving is the new file (its inode), which reports the new commit.
    expect(statSync(`/proc/${trial[1]}/exe`).ino).toBe(statSync(g.exe).ino);
    expect(cli(g.exe, ["--version"], g.dir)).toContain("(commit update-test-b)");
    expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
  }, 60_000);
});

describe("update rolled back", () => {
  test("a new binary that exits at start is replaced by .previous, which is started again", async () => {
    const g = await gateway();
    const before = sha(g.exe);
    const r = await g.upload(BAD, signature(BAD));
    expect(r.status).toBe(202);
    await g.sup.waitLine(/the new binary exited \(3\): rolled back to the previous one/, 20_000);
    expect(sha(g.exe)).toBe(before);
    expect(sha(`${g.exe}.rejected`)).toBe(sha(BAD));
    expect(existsSync(`${g.exe}.trial`)).toBe(false);
    await untilStatus(`${g.url}/healthz`, 15_000);
  }, 60_000);

  test("a new binary that never reports healthy is stopped after update.health_timeout_s and rolled back", async () => {
    const g = await gateway({ healthTimeoutS: 3, env: { BAD_MODE: "hang" } });
    const before = sha(g.exe);
    expect((await g.upload(BAD, signature(BAD))).status).toBe(202);
    await g.sup.waitLine(/the new binary was not healthy within 3 s: rolled back/, 20_000);
    expect(sha(g.exe)).toBe(before);
    await untilStatus(`${g.url}/healthz`, 15_000);
  }, 60_000);
});
