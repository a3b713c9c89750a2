// The compiled executables, run the way a gateway runs them: copied alone into an empty
// directory, started with a bare environment (no node_modules, no Bun), then asked over HTTP.
// x64 runs natively, arm64 under qemu-user.
import { afterAll, describe, expect, test } from "bun:test";
import pkg from "../package.json" with { type: "json" };
import { existsSync } from "node:fs";
import { openEventStream } from "./helpers/server.ts";
import { bareEnv, binary, cleanup, commandFor, emptyDirWith, run, untilStatus, type RunningBinary } from "./binary-harness.ts";

const E = "/api/v1/evses/1";
const AUTH = {
  provided_token: { id_token: { value: "RFID0001", type: "ISO14443" }, authorization_type: "RFID" },
  validation_result: { authorization_status: "Accepted" },
};
const PLUG_CHARGE = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000";

const dirs: string[] = [];
const servers: RunningBinary[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const d of dirs) cleanup(d);
}, 30_000);

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

/** Starts the binary alone in an empty dir; resolves with its base URL once /healthz is 200. */
async function startAlone(target: "linux-x64" | "linux-arm64", extraArgs: string[] = [], timeoutMs = 15_000) {
  const { dir, exe } = emptyDirWith(await binary(target));
  dirs.push(dir);
  const srv = run([...commandFor(exe, target === "linux-arm64"), "--port", "0", ...extraArgs], dir, bareEnv(dir));
  servers.push(srv);
  const m = await srv.waitLine(/listening on (http:\/\/[^\s"]+)/, timeoutMs);
  return { dir, srv, url: m[1]! };
}

/** Plug in, authorize, charge, unplug: the session's events arrive in order over the API. */
async function shortSession(url: string, timeoutMs: number): Promise<string[]> {
  const events = openEventStream(`${url}${E}/events`, "0");
  try {
    expect((await post(`${url}${E}/sim/car`, { script: PLUG_CHARGE })).status).toBe(202);
    await events.waitFor((m) => m.event === "session_event" && m.data.event === "AuthRequired", timeoutMs);
    expect(await post(`${url}${E}/commands/authorize_response`, AUTH)).toEqual({ status: 200, body: { result: null } });
    await events.waitFor((m) => m.event === "session_event" && m.data.event === "ChargingStarted", timeoutMs);
    expect((await post(`${url}${E}/sim/car`, { script: "unplug", replace: true })).status).toBe(202);
    await events.waitFor((m) => m.event === "session_event" && m.data.event === "SessionFinished", timeoutMs);
    const seen = events.sessionEvents();
    return seen.slice(seen.indexOf("SessionStarted"));
  } finally {
    events.close();
  }
}

function versionOf(cmd: string[], cwd: string): string {
  const r = Bun.spawnSync([...cmd, "--version"], { cwd, env: bareEnv(cwd), stdout: "pipe", stderr: "pipe" });
  expect(r.exitCode).toBe(0);
  return r.stdout.toString().trim();
}

describe("linux-x64 binary", () => {
  test("--version prints the package version and the git commit baked in at build time", async () => {
    const { dir, exe } = emptyDirWith(await binary("linux-x64"));
    dirs.push(dir);
    expect(versionOf([exe], dir)).toMatch(new RegExp(`^${pkg.version.replace(/\./g, "\\.")} \\(commit ([0-9a-f]{7,40}(-dirty)?|unknown)\\)$`));
  }, 60_000);

  test("runs alone in an empty directory: /healthz is ok and a simulated session completes over the API", async () => {
    const { url } = await startAlone("linux-x64");
    const health = await untilStatus(`${url}/healthz`, 10_000);
    expect(((await health.json()) as any).status).toBe("ok");
    const events = await shortSession(url, 15_000);
    expect(events).toContain("TransactionStarted");
    expect(events).toContain("ChargingStarted");
    expect(events.at(-1)).toBe("SessionFinished");
  }, 60_000);

  test("re-executes itself without the JIT, in the same process; EVSE_MANAGER_JIT=1 keeps the JIT", async () => {
    const exe = await binary("linux-x64");
    for (const [env, engine] of [[{}, "interpreter"], [{ EVSE_MANAGER_JIT: "1" }, "jit"]] as const) {
      const { dir, exe: copy } = emptyDirWith(exe);
      dirs.push(dir);
      const srv = run([copy, "--port", "0"], dir, bareEnv(dir, env));
      servers.push(srv);
      const line = await srv.waitLine(/listening on http:\/\/\S+/, 15_000);
      expect(line.input).toContain(`engine=${engine}`);
      // The pid that was spawned is the one serving: a supervisor or systemd keeps tracking it.
      const environ = (await Bun.file(`/proc/${srv.proc.pid}/environ`).text()).split("\0");
      expect(environ.includes("BUN_JSC_useJIT=0")).toBe(engine === "interpreter");
      expect(environ.includes("BUN_GC_TIMER_DISABLE=1")).toBe(engine === "interpreter");
      expect(srv.output.filter((l) => /WARNING cannot re-execute|ExperimentalWarning/.test(l))).toEqual([]);
      await srv.stop();
    }
  }, 60_000);

  test("EVSE_STARTUP_TRACE=1 lists the start-up's steps on stderr, counted from the first exec across the re-execution; without it none", async () => {
    const exe = await binary("linux-x64");
    const { dir, exe: copy } = emptyDirWith(exe);
    dirs.push(dir);
    const srv = run([copy, "--port", "0"], dir, bareEnv(dir, { EVSE_STARTUP_TRACE: "1" }));
    servers.push(srv);
    await srv.waitLine(/listening on http:\/\/\S+/, 15_000);
    const all = srv.output.map((l) => /^startup \+([0-9.]+) ms (.+)$/.exec(l)).filter((m) => m !== null);
    // The two board threads mark their own start, interleaved with the main thread's steps.
    const threadMark = (m: RegExpExecArray) => m[2]!.endsWith(" thread evaluated");
    expect(all.filter(threadMark).map((m) => m[2]).sort()).toEqual(["rt-worker thread evaluated", "sim-boards thread evaluated"]);
    const marks = all.filter((m) => !threadMark(m));
    const names = marks.map((m) => m[2]!);
    expect(names.slice(0, 5)).toEqual(["launch", "re-executing", "launch", "prespawned, loading main", "main.ts evaluated"]);
    expect(names.at(-1)).toBe("listening");
    expect([...names].sort()).toEqual(["board and store modules loaded", "boards started", "front end ready", "kernel and api modules loaded", "kernels booted", "launch", "launch", "listening", "main.ts evaluated", "ocpp module loaded", "prespawned, loading main", "re-executing", "store open"]);
    const ms = marks.map((m) => Number(m[1]));
    // One clock throughout: the re-executed process goes on from the first one's start.
    expect(ms).toEqual([...ms].sort((a, b) => a - b));
    await srv.stop();
    const { srv: quiet } = await startAlone("linux-x64");
    expect(quiet.output.some((l) => l.startsWith("startup +"))).toBe(false);
  }, 60_000);

  test("--board hid loads node-hid's addon embedded in the binary: the answer is the addon's own, not a missing module", async () => {
    const exe = await binary("linux-x64");
    expect(await Bun.file(exe).text()).toContain("/$bunfs/root/node-napi-v4-");
    const { srv, url } = await startAlone("linux-x64", ["--board", "hid"]);
    const line = await srv.waitLine(/^hid: cannot open/, 10_000);
    // Either the addon loaded and found no device, or its dlopen failed on the missing libusb
    // (libusb-1.0-0 comes with qemu-user on Debian): both are answers of the embedded addon.
    expect(line.input).toMatch(/no HID device any:any found|node-hid is not available: libusb-1\.0\.so\.0: cannot open shared object file/);
    expect(line.input).not.toMatch(/cannot find (module|package)|node_modules/i);
    // Without the addon the board is silent, but the program keeps serving and says so.
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as any).status).toBe("board_not_answering");
  }, 60_000);
});

describe("linux-arm64 binary under qemu-user", () => {
  test("--version prints the version and commit", async () => {
    const { dir, exe } = emptyDirWith(await binary("linux-arm64"));
    dirs.push(dir);
    expect(versionOf(commandFor(exe, true), dir)).toStartWith(`${pkg.version} (commit `);
  }, 120_000);

  test("runs alone in an empty directory: /healthz is ok and a simulated session completes over the API", async () => {
    const { url, srv } = await startAlone("linux-arm64", [], 60_000);
    // Without a binfmt handler for arm64 the kernel cannot execute the binary again: the
    // re-execution without the JIT fails (ENOEXEC), and the charger runs on with the JIT and says
    // so, in its own words only. With one (qemu-user-binfmt) it re-executes as on a gateway.
    const binfmt = existsSync("/proc/sys/fs/binfmt_misc/qemu-aarch64");
    expect(srv.output.find((l) => l.includes("listening on"))).toContain(binfmt ? "engine=interpreter" : "engine=jit");
    if (!binfmt) expect((await srv.waitLine(/WARNING cannot re-execute the binary without the JIT \((\w+)\)/, 5_000))[1]).toBe("ENOEXEC");
    expect(srv.output.filter((l) => l.includes("ExperimentalWarning"))).toEqual([]);
    const health = await untilStatus(`${url}/healthz`, 30_000);
    expect(((await health.json()) as any).status).toBe("ok");
    const events = await shortSession(url, 30_000);
    expect(events).toContain("ChargingStarted");
    expect(events.at(-1)).toBe("SessionFinished");
  }, 180_000);
});
