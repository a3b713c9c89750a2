import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { isLoopback, parseArgs } from "../api/cli-args.ts";
import { runCli } from "./helpers/server.ts";

const dir = mkdtempSync(join(tmpdir(), "evse-cli-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe("command line", () => {
  test("--help prints the usage and exits 0", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--config FILE");
    expect(r.stdout).toContain("--board sim|hid");
  });

  test("--version prints the package version and exits 0", async () => {
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  test("an unknown flag is refused with exit code 2, naming the flag", async () => {
    const r = await runCli(["--frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--frobnicate");
  });

  test("an unreadable config file is refused with exit code 2, naming the file", async () => {
    const missing = join(dir, "nope.yaml");
    const r = await runCli(["--config", missing]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(missing);
  });

  test("an invalid config is refused with exit code 2, naming file, key path and problem", async () => {
    const path = file("bad.yaml", "sim:\n  pp_resistor_ohm: lots\n");
    const r = await runCli(["--config", path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toContain("sim.pp_resistor_ohm");
  });

  test("an unknown config key is refused with exit code 2", async () => {
    const r = await runCli(["--config", file("unknown.yaml", "colour: red\n")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("colour");
  });

  test("listening beyond loopback without a token is refused with exit code 2 and a reason", async () => {
    const r = await runCli(["--host", "0.0.0.0", "--config", file("ok.yaml", "storage:\n  path: ':memory:'\n")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("token");
  });
});

describe("flag parsing", () => {
  test("flags take their value as the next word or after =", () => {
    expect(parseArgs(["--config", "a.yaml", "--host=::1", "--port", "0", "--board", "hid", "--log-format=json"])).toEqual({
      help: false,
      version: false,
      config: "a.yaml",
      host: "::1",
      port: 0,
      board: "hid",
      log_format: "json",
    });
  });

  test("bad values name the flag", () => {
    expect(() => parseArgs(["--port", "80a"])).toThrow("--port");
    expect(() => parseArgs(["--port", "70000"])).toThrow("--port");
    expect(() => parseArgs(["--board", "usb"])).toThrow("--board");
    expect(() => parseArgs(["--log-format", "xml"])).toThrow("--log-format");
    expect(() => parseArgs(["--config"])).toThrow("--config needs a value");
  });

  test("-h is --help; a value for a flag that takes none, a missing value, a positional word or an unknown flag is refused by name", () => {
    expect(parseArgs(["-h"]).help).toBe(true);
    expect(() => parseArgs(["--help=yes"])).toThrow("--help takes no value");
    expect(() => parseArgs(["--version=1"])).toThrow("--version takes no value");
    expect(() => parseArgs(["--config", "--port", "1"])).toThrow("--config needs a value");
    expect(() => parseArgs(["--port", "-1"])).toThrow("--port needs a value");
    expect(() => parseArgs(["--config", "a.yaml", "extra"])).toThrow('unknown option "extra"');
    expect(() => parseArgs(["--", "--port"])).toThrow('unknown option "--port"');
    expect(() => parseArgs(["-hv"])).toThrow('unknown option "-v"');
    expect(() => parseArgs(["--Help"])).toThrow('unknown option "--Help"');
    expect(parseArgs(["--port", "1", "--port", "2"]).port).toBe(2);
    expect(parseArgs(["--host", "-"]).host).toBe("-");
  });

  test("only loopback addresses count as loopback", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]) expect(isLoopback(h)).toBe(true);
    for (const h of ["0.0.0.0", "::", "192.168.1.5", "example.com"]) expect(isLoopback(h)).toBe(false);
  });
});
