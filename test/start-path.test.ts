// What a start of the compiled binary loads: launch.ts and main.ts with the chunks they import
// statically (build.ts splits the code; a module behind import() is read only when imported).
// A `node:` module or package in that closure loads at every start whether it is used or not.
// These cost measurable start-up time without the JIT and have cheaper ways on the start path:
// node:crypto (8-10 ms: Bun.CryptoHasher, Web Crypto), node:fs/promises, node:zlib
// (Bun.gzipSync), node:stream (console.log rather than process.stdout) and node:util (1.5 ms:
// the flags are parsed by `arg`); the OCPP and MQTT
// packages load only when configured, the OCMF library with the first signed or verified record
// (README, "Measured figures").
import { expect, test } from "bun:test";
import { join } from "node:path";
import { ENTRYPOINTS } from "../build.ts";

const ROOT = join(import.meta.dir, "..");

interface Output {
  imports: { path: string; kind: string; external?: boolean }[];
  inputs: Record<string, unknown>;
}

test("a start loads no node:crypto, node:fs/promises, node:zlib, node:stream or node:util, nor the OCPP, MQTT or OCMF packages", async () => {
  const result = await Bun.build({
    entrypoints: ENTRYPOINTS.map((e) => join(ROOT, e)),
    root: ROOT,
    target: "bun",
    format: "esm",
    splitting: true,
    metafile: true,
  });
  expect(result.success).toBe(true);
  const outputs = result.metafile!.outputs as Record<string, Output>;
  const closure = new Set<string>();
  const visit = (name: string) => {
    if (closure.has(name)) return;
    closure.add(name);
    for (const i of outputs[name]!.imports) if (i.kind === "import-statement" && !i.external) visit(i.path);
  };
  visit("./launch.js");
  visit("./main.js");
  expect(closure.size).toBeGreaterThan(5);

  // The builtins those chunks import statically (the bundler writes them without "node:").
  const builtins = new Set<string>();
  for (const out of result.outputs) {
    if (!closure.has(out.path)) continue;
    for (const m of (await out.text()).matchAll(/\bfrom\s*"(?:node:)?([a-z_/]+)"/g)) builtins.add(m[1]!);
  }
  expect(builtins).toContain("fs"); // the store and the configuration file need it: the scan sees builtins
  for (const slow of ["crypto", "fs/promises", "zlib", "stream", "util"]) expect(builtins).not.toContain(slow);

  const inputs = [...closure].flatMap((name) => Object.keys(outputs[name]!.inputs));
  expect(inputs.some((f) => f.includes("core/config/"))).toBe(true);
  for (const pkg of ["ocpp-rpc", "mqtt", "ajv", "readable-stream", "@road-labs/ocmf", "date-fns"]) expect(inputs.filter((f) => f.includes(`node_modules/${pkg}/`))).toEqual([]);
});
