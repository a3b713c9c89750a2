// `evse-manager supervise [--binary FILE] [flags]`: the process a service manager starts. It runs
// the binary (FILE, by default its own file) as its child with the server's flags and stays small.
// The decision to keep or roll back an update is never made by the code on trial:
//
// - On start it first recovers the update files from whatever a power cut left (install.ts,
//   recover): an update not yet proven healthy is rolled back, so the old binary serves.
// - When the child exits with UPDATE_EXIT_CODE it starts the file again; if an update was
//   installed (.trial) the new child must answer GET /healthz with 200 within
//   update.health_timeout_s, otherwise (it cannot be started, exits, hangs or stays unhealthy)
//   it is stopped and .previous is put back and started at once.
// - If the binary in place cannot be executed at all (ENOENT, ENOEXEC, EACCES from the spawn),
//   .previous is put back and started, on trial or not.
//
// With --binary the supervisor runs from a copy outside the update directory, which updates
// never replace: a bad file in place cannot take the supervisor down with it (docs/integrators.md).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { loadConfigFile } from "../api/config-file.ts";
import { commit, hasPrevious, onTrial, pathsFor, recover, rollback, type Recovered, type UpdatePaths } from "./install.ts";
import { COMPILED, SUPERVISED_ENV, UPDATE_EXIT_CODE } from "./service.ts";
import { reached } from "./swap-steps.ts";
import { parseStrict, UsageError } from "./usage.ts";

const HEALTH_POLL_MS = 250;
const STOP_GRACE_MS = 3000;
const DEFAULT_HEALTH_TIMEOUT_S = 30;

export const SUPERVISE_USAGE = `Usage: evse-manager supervise [--binary FILE] [--config FILE] [--host HOST] [--port PORT]
                              [--board sim|hid] [--log-format text|json]

  --binary FILE        the binary to run and update (default: this file). Run the supervisor
                       from a copy outside FILE's directory: updates then never replace it
  --config, --host, --port, --board, --log-format
                       passed to the binary (see evse-manager --help); the supervisor reads
                       update.health_timeout_s from the same --config`;

/** The supervisor's own flag, and the server's flags, which it passes on unchanged. */
const SUPERVISE_OPTIONS = {
  binary: { type: "string" },
  help: { type: "boolean", short: "h" },
  config: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  board: { type: "string" },
  "log-format": { type: "string" },
} as const;

export interface SuperviseArgs {
  help: boolean;
  binary?: string;
  config?: string;
  /** The server's flags, as given. */
  childArgs: string[];
}

export function parseSuperviseArgs(args: string[]): SuperviseArgs {
  const { values, tokens } = parseStrict(args, SUPERVISE_OPTIONS, false);
  if (values.binary === "") throw new UsageError("--binary needs a file name");
  const childArgs: string[] = [];
  for (const t of tokens) {
    if (t.kind !== "option" || t.name === "binary" || t.name === "help") continue;
    childArgs.push(`--${t.name}`, t.value ?? "");
  }
  return { help: values.help === true, binary: values.binary, config: values.config, childArgs };
}

type Child = ReturnType<typeof Bun.spawn>;

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} supervisor: ${line}\n`);
}

/** The health timeout from the same --config the child gets; defaults when there is none or it is bad (the child reports that). */
function healthTimeoutMs(config: string | undefined): number {
  if (config === undefined) return DEFAULT_HEALTH_TIMEOUT_S * 1000;
  try {
    return loadConfigFile(config).update.health_timeout_s * 1000;
  } catch {
    return DEFAULT_HEALTH_TIMEOUT_S * 1000;
  }
}

const exitedOf = (c: Child) => c.exitCode !== null || c.signalCode !== null;

async function stopChild(child: Child): Promise<void> {
  if (exitedOf(child)) return;
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
      const ok = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(Math.min(1000, Math.max(1, deadline - Date.now()))) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return true;
    }
    await Bun.sleep(HEALTH_POLL_MS);
  }
  return false;
}

const RECOVERED: Record<Recovered, string | null> = {
  clean: null,
  leftovers_removed: "removed the leftovers of an interrupted upload",
  swap_not_done: "an interrupted update had left the old binary in place: the update is dropped",
  rolled_back: "an update was interrupted before it proved healthy: rolled back to the previous binary",
  no_previous: "an update marker without a previous binary: the marker is removed and the binary in place runs",
};

export async function supervise(argv: string[]): Promise<number> {
  const args = parseSuperviseArgs(argv);
  if (args.help) {
    process.stdout.write(SUPERVISE_USAGE + "\n");
    return 0;
  }
  if (args.binary === undefined && !COMPILED) {
    log("supervise needs the compiled binary (npm run build) or --binary FILE; run from source, start main.ts directly");
    return 2;
  }
  const paths: UpdatePaths = pathsFor(resolve(args.binary ?? process.execPath));
  if (!existsSync(paths.exe) && !existsSync(paths.previous)) throw new UsageError(`--binary: ${paths.exe} does not exist`);
  const timeoutMs = healthTimeoutMs(args.config);
  if (paths.exe === process.execPath) log("runs from the binary that updates replace; a separate copy with --binary is safer (docs/integrators.md)");

  try {
    const what = RECOVERED[recover(paths)];
    if (what !== null) log(what);
  } catch (err) {
    // The files could not be put in order (permissions, read-only file system): starting anything
    // now could run an untried binary. The service manager restarts the supervisor, which tries again.
    log(`cannot recover the update files beside ${paths.exe}: ${(err as Error).message}`);
    return 1;
  }

  let stopping = false;
  let child: Child | null = null;
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    process.on(signal, () => {
      stopping = true;
      child?.kill(signal === "SIGHUP" ? "SIGTERM" : signal);
    });
  }

  /** Puts .previous back after `what` went wrong with the binary in place; false when there is none. */
  const restore = (what: string): boolean => {
    let restored: boolean;
    try {
      restored = rollback(paths);
    } catch (err) {
      log(`${what}, and rolling back failed: ${(err as Error).message}`);
      return false;
    }
    log(restored ? `${what}: rolled back to the previous one (the failed one is kept as ${paths.rejected})` : `${what} and there is no previous binary to restore`);
    return restored;
  };

  let trial = false;
  for (;;) {
    let url: string | null = null;
    let c: Child;
    try {
      c = Bun.spawn([paths.exe, ...args.childArgs], {
        stdio: ["inherit", "inherit", "inherit"],
        env: { ...process.env, [SUPERVISED_ENV]: "1" },
        serialization: "json",
        ipc(message: unknown) {
          const m = message as { kind?: unknown; url?: unknown };
          if (m?.kind === "listening" && typeof m.url === "string") url = m.url;
        },
      });
    } catch (err) {
      // posix_spawn failed: the file cannot be executed here (ENOENT: it or its interpreter is
      // missing; ENOEXEC: not an executable; EACCES). Nothing of it ran, so the old binary goes
      // back at once, whether or not an update is on trial.
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      if (stopping) return 0;
      if (hasPrevious(paths) && restore(`the ${trial ? "new " : ""}binary cannot be started (${code})`)) {
        trial = false;
        continue;
      }
      log(`cannot start ${paths.exe} (${code}) and there is no other binary to start`);
      return 1;
    }
    child = c;
    log(`started ${paths.exe} (pid ${c.pid})`);
    if (trial) {
      log(`new binary on trial (pid ${c.pid}): it has ${timeoutMs / 1000} s to answer /healthz with 200`);
      reached("trial");
      if (await becomesHealthy(c, () => url, timeoutMs)) {
        commit(paths);
        trial = false;
        log("the new binary is healthy: update committed");
      } else if (!stopping) {
        const how = exitedOf(c) ? `exited (${c.exitCode ?? c.signalCode})` : `was not healthy within ${timeoutMs / 1000} s`;
        await stopChild(c);
        trial = false;
        if (restore(`the new binary ${how}`)) continue;
        // Nothing to go back to: the binary in place runs without a trial.
        continue;
      }
    }
    const code = await c.exited;
    if (stopping) return code ?? 0;
    if (code === UPDATE_EXIT_CODE) {
      trial = onTrial(paths);
      log(trial ? "restarting into the updated binary" : "restarting the binary");
      continue;
    }
    return code ?? 1;
  }
}
