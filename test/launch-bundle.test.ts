// launch.ts runs twice at every start of the compiled binary (before and after its re-execution
// without the JIT), so its bundle must stay small: the program (main.ts) and the supervisor
// (update/cli.ts) are entry points of their own, loaded by name only when needed. A string
// literal as that name lets the bundler fold it and inline the module; that once put update/cli.ts
// with valibot and node:crypto into launch.js and cost each start about 10 ms.
import { expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");

test("launch.ts bundles neither the program nor the supervisor nor node:crypto", async () => {
  const result = await Bun.build({
    entrypoints: [join(ROOT, "launch.ts")],
    root: ROOT,
    target: "bun",
    format: "esm",
  });
  expect(result.success).toBe(true);
  const text = await result.outputs[0]!.text();
  // The engine decision and the prespawn are there, loading the two entry points by name.
  expect(text).toContain("BUN_JSC_useJIT");
  expect(text).toContain('("main")');
  expect(text).toContain('("update/cli")');
  // What update/cli.ts and main.ts bring is not.
  expect(text).not.toContain("function runSubcommand");
  expect(text).not.toContain("evse-manager-update-v1");
  expect(text).not.toMatch(/from\s*"(node:)?crypto"/);
  expect(text).not.toContain("listening on");
  expect(text.length).toBeLessThan(20_000);
});
