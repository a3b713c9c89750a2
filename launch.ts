// The compiled binary's first code (build.ts lists it first): it settles the JavaScript engine
// mode, then loads the program, main.ts, which is an entry point of its own in the binary so that
// none of it loads before the decision.
//
// On a gateway the engine runs without its JIT compilers unless asked otherwise: the charger then
// needs about 14 MB less memory, for some more CPU time (figures in docs/integrators.md, "Memory
// and the JIT"). JavaScriptCore reads that setting (BUN_JSC_useJIT) only when a process starts,
// so the binary re-executes itself once with it (engine.ts), which costs about 20 ms of start-up.
// EVSE_MANAGER_JIT=1 keeps the JIT; a BUN_JSC_useJIT set by the operator is left as it is, and
// setting it in the service's environment (docs/integrators.md) saves the re-execution.
import { INTERPRETER_ENV } from "./engine.ts";
import { prespawnFirstBoard } from "./rt-worker/prespawn.ts";
import { startupMark, startupTraceEnv } from "./startup-trace.ts";

startupMark("launch");

const COMPILED = import.meta.url.includes("$bunfs");

/** ELF machine numbers of the two gateway architectures. */
const ELF_MACHINE: Partial<Record<string, number>> = { x64: 62, arm64: 183 };

/** A failed execve aborts the process (Bun cannot return from it), so it is tried only where it
 *  works: on a machine whose own programs are of this binary's architecture. Under an emulator
 *  such as qemu-user without binfmt the kernel could not run the binary again. Bun.file rather
 *  than node:fs: that would load its streams here, in a process about to be replaced. Not
 *  Bun.mmap, though faster: it opens the file for writing, which fails while any process runs
 *  /bin/sh (ETXTBSY) and for a service that is not root (EACCES). */
async function canReexecute(): Promise<boolean> {
  try {
    const h = await Bun.file("/bin/sh").slice(0, 20).bytes();
    const isElf = h.length === 20 && h[0] === 0x7f && h[1] === 0x45 && h[2] === 0x4c && h[3] === 0x46;
    return isElf && (h[18]! | (h[19]! << 8)) === ELF_MACHINE[process.arch];
  } catch {
    return false;
  }
}

if (COMPILED && process.env.EVSE_MANAGER_JIT !== "1" && process.env.BUN_JSC_useJIT === undefined && (await canReexecute())) {
  startupMark("re-executing");
  // Same pid, same open files: a supervisor or systemd sees one process throughout.
  process.execve!(process.execPath, [process.execPath, ...process.argv.slice(2)], { ...INTERPRETER_ENV, ...process.env, ...startupTraceEnv(), BUN_JSC_useJIT: "0" });
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

// The first connector's board threads boot while main.ts loads (rt-worker/prespawn.ts).
if (COMPILED) prespawnFirstBoard();

startupMark("prespawned, loading main");
await import(entryPoint("main"));
