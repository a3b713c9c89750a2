// `evse-manager supervise [flags]`: the process a service manager starts. It runs the binary file
// as its child with the same flags and stays small; its own code is the binary that was in place
// when it started, so a broken update cannot break the way back. When the child exits with
// UPDATE_EXIT_CODE it starts the file again. While the trial marker exists (an update was
// installed) the child must answer GET /healthz with 200 within update.health_timeout_s;
// otherwise, or if it exits first, the supervisor stops it, puts .previous back and starts that.
import { loadConfigFile } from "../api/config-file.ts";
import { commit, onTrial, pathsFor, rollback, type UpdatePaths } from "./install.ts";
import { COMPILED, SUPERVISED_ENV, UPDATE_EXIT_CODE } from "./service.ts";

const HEALTH_POLL_MS = 250;
const STOP_GRACE_MS = 3000;
const DEFAULT_HEALTH_TIMEOUT_S = 30;

type Child = ReturnType<typeof Bun.spawn>;

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} supervisor: ${line}\n`);
}

/** The health timeout from the same --config the child gets; defaults when there is none or it is bad (the child reports that). */
function healthTimeoutMs(args: string[]): number {
  const k = args.findIndex((a) => a === "--config" || a.startsWith("--config="));
  const file = k < 0 ? undefined : args[k]!.includes("=") ? args[k]!.slice("--config=".length) : args[k + 1];
  if (file === undefined) return DEFAULT_HEALTH_TIMEOUT_S * 1000;
  try {
    return loadConfigFile(file).update.health_timeout_s * 1000;
  } catch {
    return DEFAULT_HEALTH_TIMEOUT_S * 1000;
  }
}

async function stopChild(child: Child): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const done = await Promise.race([child.exited.then(() => true), Bun.sleep(STOP_GRACE_MS).then(() => false)]);
  if (!done) {
    child.kill("SIGKILL");
    await child.exited;
  }
}

/** Resolves true once the child's /healthz answers 200, false at the deadline or when it exits. */
async function becomesHealthy(child: Child, url: () => string | null, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => (exited = true));
  while (!exited && Date.now() < deadline) {
    const base = url();
    if (base !== null) {
      const ok = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return true;
    }
    await Bun.sleep(HEALTH_POLL_MS);
  }
  return false;
}

export async function supervise(args: string[]): Promise<number> {
  if (!COMPILED) {
    log("supervise needs the compiled binary (npm run build); run from source, start main.ts directly");
    return 2;
  }
  const paths: UpdatePaths = pathsFor(process.execPath);
  const timeoutMs = healthTimeoutMs(args);
  let stopping = false;
  let child: Child | null = null;
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    process.on(signal, () => {
      stopping = true;
      child?.kill(signal === "SIGHUP" ? "SIGTERM" : signal);
    });
  }

  for (;;) {
    const trial = onTrial(paths);
    let url: string | null = null;
    const c: Child = Bun.spawn([paths.exe, ...args], {
      stdio: ["inherit", "inherit", "inherit"],
      env: { ...process.env, [SUPERVISED_ENV]: "1" },
      serialization: "json",
      ipc(message: unknown) {
        const m = message as { kind?: unknown; url?: unknown };
        if (m?.kind === "listening" && typeof m.url === "string") url = m.url;
      },
    });
    child = c;
    if (trial) {
      log(`new binary on trial (pid ${c.pid}): it has ${timeoutMs / 1000} s to answer /healthz with 200`);
      if (await becomesHealthy(c, () => url, timeoutMs)) {
        commit(paths);
        log("the new binary is healthy: update committed");
      } else if (!stopping) {
        const how = c.exitCode !== null || c.signalCode !== null ? `exited (${c.exitCode ?? c.signalCode})` : `was not healthy within ${timeoutMs / 1000} s`;
        await stopChild(c);
        const restored = rollback(paths);
        log(restored ? `the new binary ${how}: rolled back to the previous one (the failed one is kept as ${paths.rejected})` : `the new binary ${how} and there is no previous binary to restore`);
        if (restored) continue;
      }
    }
    const code = await c.exited;
    if (stopping) return code ?? 0;
    if (code === UPDATE_EXIT_CODE) {
      log("restarting into the updated binary");
      continue;
    }
    return code ?? 1;
  }
}
