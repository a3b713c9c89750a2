// Fast checks of the update pieces without a server: the ELF check on real and hand-made files,
// the supervisor's and sign-update's command lines, and the swap journal's recovery from every
// state a power cut can leave (small files stand in for the binaries).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, linkSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bufferSource, checkElf } from "../update/elf.ts";
import { pathsFor, recover, rollback, type UpdatePaths } from "../update/install.ts";
import { runSubcommand } from "../update/cli.ts";
import { parseSuperviseArgs } from "../update/supervisor.ts";

const TRUE = readFileSync("/bin/true");
const exists = () => true;

/** A minimal well-formed ELF64 x86-64 executable: one PT_LOAD (R+X) holding the entry, optionally a PT_INTERP. */
function elf(opts: { interp?: string; machine?: number; cls?: number; data?: number; type?: number; entry?: bigint; phoff?: bigint; flags?: number } = {}): Buffer {
  const interp = opts.interp === undefined ? null : Buffer.from(opts.interp + "\0");
  const phnum = interp ? 2 : 1;
  const dataAt = 64 + 56 * phnum;
  const b = Buffer.alloc(dataAt + (interp?.length ?? 0) + 16);
  b.set([0x7f, 0x45, 0x4c, 0x46, opts.cls ?? 2, opts.data ?? 1, 1], 0);
  b.writeUInt16LE(opts.type ?? 2, 16);
  b.writeUInt16LE(opts.machine ?? 62, 18);
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(opts.entry ?? 0x400000n + BigInt(dataAt), 24);
  b.writeBigUInt64LE(opts.phoff ?? 64n, 32);
  b.writeUInt16LE(64, 52);
  b.writeUInt16LE(56, 54);
  b.writeUInt16LE(phnum, 56);
  let at = 64;
  if (interp) {
    b.writeUInt32LE(3, at);
    b.writeBigUInt64LE(BigInt(dataAt), at + 8);
    b.writeBigUInt64LE(BigInt(interp.length), at + 32);
    b.writeBigUInt64LE(BigInt(interp.length), at + 40);
    interp.copy(b, dataAt);
    at += 56;
  }
  b.writeUInt32LE(1, at);
  b.writeUInt32LE(opts.flags ?? 5, at + 4);
  b.writeBigUInt64LE(0n, at + 8);
  b.writeBigUInt64LE(0x400000n, at + 16);
  b.writeBigUInt64LE(BigInt(b.length), at + 32);
  b.writeBigUInt64LE(BigInt(b.length), at + 40);
  return b;
}

describe("ELF check", () => {
  test("/bin/true is an x64 executable with an interpreter present here", async () => {
    expect(await checkElf(bufferSource(TRUE), "x64")).toEqual({ ok: true, arch: "x64", interpreter: "/lib64/ld-linux-x86-64.so.2" });
  });

  test("a well-formed static executable and one with an existing interpreter pass", async () => {
    expect(await checkElf(bufferSource(elf()), "x64", exists)).toEqual({ ok: true, arch: "x64", interpreter: null });
    expect(await checkElf(bufferSource(elf({ interp: "/lib/ld.so" })), "x64", exists)).toEqual({ ok: true, arch: "x64", interpreter: "/lib/ld.so" });
  });

  test("each malformation is named", async () => {
    const reason = async (b: Uint8Array, arch = "x64", present = exists) => {
      const r = await checkElf(bufferSource(b), arch, present);
      return r.ok ? "ok" : `${r.code}: ${r.reason}`;
    };
    expect(await reason(elf().subarray(0, 40))).toBe("not_an_executable: is not an ELF executable (40 bytes, shorter than an ELF header)");
    expect(await reason(Buffer.from("#!/bin/sh\n".padEnd(100, "x")))).toBe("not_an_executable: is not an ELF executable");
    expect(await reason(elf({ cls: 1 }))).toBe("not_an_executable: is not a 64-bit ELF executable");
    expect(await reason(elf({ data: 2 }))).toBe("not_an_executable: is not a little-endian ELF executable");
    expect(await reason(elf({ machine: 183 }))).toBe("wrong_architecture: is built for arm64, this machine runs x64");
    expect(await reason(elf({ machine: 999 }))).toContain("wrong_architecture: is for an unknown machine (ELF e_machine 999)");
    expect(await reason(elf({ type: 1 }))).toBe("not_an_executable: is an ELF file of type 1, not an executable");
    expect(await reason(elf({ phoff: 4096n }))).toContain("program header table (offset 4096, 1 entries) outside the file");
    expect(await reason(elf({ entry: 0x10n }))).toContain("entry point (0x10) outside every executable segment");
    expect(await reason(elf({ flags: 4 }))).toContain("outside every executable segment");
    expect(await reason(elf({ interp: "lib/ld.so" }))).toBe('not_an_executable: names a relative program interpreter ("lib/ld.so")');
    expect(await reason(elf({ interp: "/lib/ld.so" }), "x64", () => false)).toBe(
      "interpreter_missing: needs the program interpreter /lib/ld.so, which does not exist on this machine",
    );
    const cut = elf({ interp: "/lib/ld.so" });
    cut.writeBigUInt64LE(BigInt(cut.length + 1), 64 + 32); // PT_INTERP's size beyond the file
    expect(await reason(cut)).toContain("segment 0");
  });

  test("/bin/true with its interpreter path changed is refused as interpreter_missing", async () => {
    const b = Buffer.from(TRUE);
    b.write("ld-linux-x86-64.so.9", b.indexOf("ld-linux-x86-64.so.2"));
    const r = await checkElf(bufferSource(b), "x64");
    expect(r).toMatchObject({ ok: false, code: "interpreter_missing" });
  });
});

describe("command lines (util.parseArgs, strict)", () => {
  test("supervise keeps its flag and passes the server's flags on", () => {
    expect(parseSuperviseArgs(["--binary", "/opt/e", "--config=c.yaml", "--port", "0", "--log-format", "json"])).toEqual({
      help: false,
      binary: "/opt/e",
      config: "c.yaml",
      childArgs: ["--config", "c.yaml", "--port", "0", "--log-format", "json"],
    });
    expect(() => parseSuperviseArgs(["--nope"])).toThrow("Unknown option '--nope'");
    expect(() => parseSuperviseArgs(["--config"])).toThrow("Option '--config <value>' argument missing");
    expect(() => parseSuperviseArgs(["stray"])).toThrow("Unexpected argument 'stray'");
    expect(() => parseSuperviseArgs(["--binary="])).toThrow("--binary needs a file name");
  });

  test("sign-update and supervise answer a bad command line with exit 2 and the reason", async () => {
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => (lines.push(s), true)) as typeof process.stderr.write;
    try {
      expect(await runSubcommand(["sign-update", "--kee", "k.pem", "bin"])).toBe(2);
      expect(await runSubcommand(["sign-update", "--key", "k.pem", "a", "b"])).toBe(2);
      expect(await runSubcommand(["sign-update", "bin"])).toBe(2);
      expect(await runSubcommand(["supervise", "--bogus"])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(lines).toEqual([
      "evse-manager sign-update: Unknown option '--kee'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--kee\"\n",
      'evse-manager sign-update: only one BINARY can be signed at a time, got "a" and "b"\n',
      "evse-manager sign-update: --key KEY.pem is required\n",
      "evse-manager supervise: Unknown option '--bogus'\n",
    ]);
  });
});

describe("swap journal: recovery from every state a power cut leaves", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** A directory whose binary is "old", with `state` applied by hand, as install.ts would have left it. */
  function setup(state: (p: UpdatePaths) => void): UpdatePaths {
    const dir = mkdtempSync(join(tmpdir(), "evse-swap-"));
    dirs.push(dir);
    const p = pathsFor(join(dir, "evse-manager"));
    writeFileSync(p.exe, "old binary");
    state(p);
    return p;
  }
  const stage = (p: UpdatePaths) => writeFileSync(p.staging, "new binary");
  const previous = (p: UpdatePaths) => linkSync(p.exe, p.previous);
  const mark = (p: UpdatePaths, to = p.trial) => writeFileSync(to, JSON.stringify({ ino: statSync(p.staging, { bigint: true }).ino.toString() }));
  const swap = (p: UpdatePaths) => renameSync(p.staging, p.exe);

  const cases: [string, (p: UpdatePaths) => void, string][] = [
    ["nothing in flight", () => {}, "clean"],
    ["staged", stage, "leftovers_removed"],
    ["previous linked to its temporary name", (p) => (stage(p), linkSync(p.exe, `${p.previous}.tmp`)), "leftovers_removed"],
    ["previous in place", (p) => (stage(p), previous(p)), "leftovers_removed"],
    ["marker written to its temporary name", (p) => (stage(p), previous(p), mark(p, `${p.trial}.tmp`)), "leftovers_removed"],
    ["marked", (p) => (stage(p), previous(p), mark(p)), "swap_not_done"],
    ["swapped", (p) => (stage(p), previous(p), mark(p), swap(p)), "rolled_back"],
    ["rollback: the new binary linked to .rejected", (p) => (stage(p), previous(p), mark(p), swap(p), linkSync(p.exe, p.rejected)), "rolled_back"],
    ["rollback: .previous back in place", (p) => (stage(p), previous(p), mark(p), swap(p), linkSync(p.exe, p.rejected), rmSync(p.exe), linkSync(p.previous, p.exe)), "swap_not_done"],
  ];
  for (const [name, state, expected] of cases) {
    test(`${name}: ${expected}, the old binary in place, no update in flight`, () => {
      const p = setup(state);
      expect(recover(p)).toBe(expected as ReturnType<typeof recover>);
      expect(readFileSync(p.exe, "utf8")).toBe("old binary");
      for (const f of [p.trial, p.staging, `${p.trial}.tmp`, `${p.previous}.tmp`, `${p.exe}.tmp`]) expect(existsSync(f)).toBe(false);
      // Recovering again changes nothing: the result is a fixed point.
      expect(recover(p)).toBe("clean");
    });
  }

  test("a marker that cannot be read is decided by content: a copy of .previous in place is the old binary, anything else the new one", () => {
    const p = setup((p) => (writeFileSync(p.previous, "old binary"), writeFileSync(p.trial, "{torn")));
    expect(recover(p)).toBe("swap_not_done");
    const q = setup((p) => (renameSync(p.exe, p.previous), writeFileSync(p.exe, "new binary"), writeFileSync(p.trial, "{torn")));
    expect(recover(q)).toBe("rolled_back");
    expect(readFileSync(q.exe, "utf8")).toBe("old binary");
    expect(readFileSync(q.rejected, "utf8")).toBe("new binary");
  });

  test("rollback without a different .previous leaves the binary in place", () => {
    const p = setup(previous);
    expect(rollback(p)).toBe(false);
    expect(readFileSync(p.exe, "utf8")).toBe("old binary");
  });
});
