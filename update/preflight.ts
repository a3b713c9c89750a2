// The last check before an upload may replace the running binary: it must run on this machine.
// The staged file is executed once with `--version`, apart from the running service: working
// directory `/` (nothing of the service's; a service under ProtectSystem=strict may have no
// writable temporary directory), a bare environment (none of the service's variables, so no
// token, no supervisor channel), no stdin, its own process group, and a short deadline after
// which the whole group is killed. It must exit 0 and print a version line, as every release does.
export const VERSION_TIMEOUT_MS = 5000;
/** What `evse-manager --version` prints: `0.1.0` or `0.1.0 (commit 66e16fe1a2b3)` (build.ts). */
const VERSION_LINE = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?(?: \(commit [^\s()]+\))?$/;
const MAX_OUTPUT = 4096;

export type RunCheck = { ok: true; version: string } | { ok: false; code: "version_timeout" | "does_not_run"; reason: string };

/** Runs `exe --version`; never throws. */
export async function runVersion(exe: string, timeoutMs = VERSION_TIMEOUT_MS): Promise<RunCheck> {
  let child;
  try {
    child = Bun.spawn([exe, "--version"], {
      cwd: "/",
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: on the deadline the file and anything it started are killed.
      detached: true,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, code: "does_not_run", reason: `cannot be started on this machine (${e.code ?? e.message})` };
  }
  const stdout = readCapped(child.stdout);
  const stderr = readCapped(child.stderr);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([
    child.exited.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    killGroup(child.pid);
    await child.exited;
    return { ok: false, code: "version_timeout", reason: `did not finish \`--version\` within ${timeoutMs / 1000} s` };
  }
  // Whatever it left running in its group goes too.
  killGroup(child.pid);
  // A process that left the group could still hold the pipe: wait for it only briefly.
  const out = await Promise.race([stdout, Bun.sleep(1000).then(() => "")]);
  const first = out.split("\n", 1)[0]!.trim();
  if (child.exitCode !== 0) {
    const err = (await Promise.race([stderr, Bun.sleep(1000).then(() => "")])).trim().split("\n").slice(-1)[0] ?? "";
    const how = child.exitCode === null ? `was killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;
    return { ok: false, code: "does_not_run", reason: `${how} on \`--version\`${err ? ` (${err.slice(0, 200)})` : ""}` };
  }
  if (!VERSION_LINE.test(first)) {
    return { ok: false, code: "does_not_run", reason: `printed no version line on \`--version\` (got ${JSON.stringify(first.slice(0, 80))})` };
  }
  return { ok: true, version: first };
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the group is already gone
  }
}

/** The first MAX_OUTPUT bytes of a stream; the rest is read and dropped so the child never blocks. */
async function readCapped(stream: ReadableStream<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  let kept = 0;
  try {
    for await (const chunk of stream) {
      if (kept >= MAX_OUTPUT) continue;
      const part = chunk.subarray(0, MAX_OUTPUT - kept);
      parts.push(part);
      kept += part.byteLength;
    }
  } catch {
    // the pipe broke with the child: what was read is enough
  }
  return Buffer.concat(parts).toString("utf8");
}
