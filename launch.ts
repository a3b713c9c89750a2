// The compiled binary's first code (build.ts lists it first): it settles the JavaScript engine
// mode, then loads the program, main.ts, which is an entry point of its own in the binary so that
// none of it loads before the decision.
//
// On a gateway the engine runs without its JIT compilers unless asked otherwise: the charger then
// needs about 14 MB less memory, for some more CPU time (figures in docs/integrators.md, "Memory
// and the JIT"). JavaScriptCore reads that setting (BUN_JSC_useJIT) only when a process starts,
// so the binary re-executes itself once with it (engine.ts), which costs about 15 ms of start-up.
// EVSE_MANAGER_JIT=1 keeps the JIT; a BUN_JSC_useJIT set by the operator is left as it is, and
// setting it in the service's environment (docs/integrators.md) saves the re-execution.
import { INTERPRETER_ENV, noteReexecFailure } from "./engine.ts";
import { prespawnFirstWorker } from "./rt-worker/prespawn.ts";
import { startupMark, startupTraceEnv } from "./startup-trace.ts";

startupMark("launch");

const COMPILED = import.meta.url.includes("$bunfs");

if (COMPILED && process.env.EVSE_MANAGER_JIT !== "1" && process.env.BUN_JSC_useJIT === undefined) {
  startupMark("re-executing");
  try {
    // Same pid, same open files: a supervisor or systemd sees one process throughout.
    process.execve!(process.execPath, [process.execPath, ...process.argv.slice(2)], { ...INTERPRETER_ENV, ...process.env, ...startupTraceEnv(), BUN_JSC_useJIT: "0" });
  } catch (err) {
    // The kernel cannot run the binary again, as under an emulator such as qemu-user without
    // binfmt (ENOEXEC). Bun 1.4.5 throws here and the process is untouched, so the charger runs
    // on with the JIT, and main.ts says why in its log.
    noteReexecFailure(err);
  }
}

/** The module path of another entry point of the binary (build.ts), or of its source file when run
 *  from source. Built at run time so that the bundler cannot fold it and inline the module into
 *  launch.js: a string literal once made launch.js carry the whole of update/cli.ts and
 *  node:crypto, which both starts (before and after the re-execution) paid for. */
const entryPoint = (name: string): string => (COMPILED ? `./${name}.js` : `./${name}.ts`);

/** `supervise` and `sign-update` run from their own entry point: the supervisor stays beside the
 *  charger for the service's lifetime and should not carry the charger's code. */
const SUBCOMMAND = process.argv[2] === "supervise" || process.argv[2] === "sign-update";

if (COMPILED && SUBCOMMAND) {
  const { runSubcommand } = (await import(entryPoint("update/cli"))) as typeof import("./update/cli.ts");
  process.exit(await runSubcommand(process.argv.slice(2)));
}

// The first connector's real-time worker boots while main.ts loads (rt-worker/prespawn.ts).
if (COMPILED) prespawnFirstWorker();

startupMark("prespawned, loading main");
await import(entryPoint("main"));
