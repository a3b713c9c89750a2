// The engine settings the binary runs with unless EVSE_MANAGER_JIT=1 (launch.ts, docs/integrators.md
// "Memory and the JIT"). Both are read by the runtime only when a process starts.
//   BUN_JSC_useJIT=0        JavaScriptCore without its JIT tiers: about 14 MB less memory.
//   BUN_GC_TIMER_DISABLE=1  no extra idle collections by Bun's GC timer on top of JavaScriptCore's
//                           own allocation-paced ones. Without the JIT that timer ran a full
//                           collection several times a second in every thread of an idle charger
//                           (BUN_JSC_logGC=1): about a fifth of the idle CPU time, and more memory
//                           growth over `npm run soak` (8.4 % against 3.2 % without it).
export const INTERPRETER_ENV = { BUN_JSC_useJIT: "0", BUN_GC_TIMER_DISABLE: "1" } as const;

/** Why launch.ts could not re-execute the binary without the JIT, if it tried and failed. launch.js
 *  and main.js share this module (a chunk of its own in the binary), so main.ts sees what launch
 *  noted. */
let reexecFailure: string | null = null;

export function noteReexecFailure(err: unknown): void {
  reexecFailure = (err as { code?: string }).code ?? String((err as Error).message ?? err);
}

/** The log line for a failed re-execution, or null. */
export function reexecWarning(): string | null {
  return reexecFailure === null ? null : `WARNING cannot re-execute the binary without the JIT (${reexecFailure}): running with the JIT, which needs more memory (docs/integrators.md, "Memory and the JIT")`;
}

/** The mode this process runs in, as the log's listening line says it. */
export function engineName(env: Record<string, string | undefined> = process.env): "interpreter" | "jit" {
  return env.BUN_JSC_useJIT === "0" ? "interpreter" : "jit";
}
