// The files of an update, all beside the running binary (one directory, one filesystem, so every
// swap is a rename):
//   evse-manager            the binary that runs
//   evse-manager.staging    an upload being received and checked; only run with --version
//   evse-manager.previous   the binary the last update replaced: the way back
//   evse-manager.trial      the journal: an update is installed and not yet proven healthy
//   evse-manager.rejected   the binary the last rollback took out, kept for diagnosis
// Nothing in place changes until an upload is complete, fsynced, signed, a well-formed
// executable for this machine and has run here (preflight.ts).
//
// The swap is a small journaled state machine. Its invariant: whenever .trial exists, .previous
// is the binary that served before the update. So the state after a power cut at any step is
// read off the disk alone (recover): .trial absent: the binary in place is committed. .trial
// present and the binary in place has .previous's content: the swap had not happened (or a
// rollback had already put the old binary back). .trial present and the binary differs from
// .previous: the new binary is in place untried or mid-trial, and is rolled back.
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { FileHandle } from "node:fs/promises";
import type { KeyObject } from "node:crypto";
import { checkElf, fileSource } from "./elf.ts";
import { runVersion } from "./preflight.ts";
import { reached } from "./swap-steps.ts";
import { verifyDigest } from "./signature.ts";

/** node:fs/promises's open, loaded when an update arrives: the module's import costs some 1.5 ms
 *  of every start. */
const open = (path: string, flags: string, mode?: number): Promise<FileHandle> => process.getBuiltinModule("node:fs/promises").open(path, flags, mode);

export interface UpdatePaths {
  exe: string;
  staging: string;
  previous: string;
  trial: string;
  rejected: string;
}

export function pathsFor(exe: string): UpdatePaths {
  return { exe, staging: `${exe}.staging`, previous: `${exe}.previous`, trial: `${exe}.trial`, rejected: `${exe}.rejected` };
}

/** A refused upload: the HTTP status and error code the route answers with. */
export class UpdateRejected extends Error {
  constructor(
    readonly status: 400 | 409 | 413 | 422,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "UpdateRejected";
  }
}

export interface Staged {
  sha256: string;
  size: number;
}

function fsyncDir(path: string): void {
  const fd = openSync(dirname(path), "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A full collection after every 16 MB staged. Each chunk of the body is garbage once written, but
 *  the collector, paced by its own heap rather than by the memory the chunks hold outside it, let
 *  them pile up: 50-60 MB more during a 300 MB upload (test/api-upload.test.ts), on a gateway that
 *  may have little to spare. With it 13-18 MB more, for a pause of 2-4 ms per collection on
 *  the charger's main thread (nothing on the real-time path waits for it) and a slower upload that is still
 *  far faster than a network can bring one (300 MB in 1.5 s instead of 1.0 s on loopback).
 *  An eden collection instead made it worse (116-217 MB): it promotes chunks still queued in the
 *  body stream, which only a full collection frees. */
const COLLECT_EVERY_BYTES = 16 * 1024 * 1024;

/** Streams the upload to the staging file, hashing as it goes; stops at maxBytes. */
export async function stage(body: AsyncIterable<Uint8Array>, paths: UpdatePaths, maxBytes: number): Promise<Staged> {
  rmSync(paths.staging, { force: true });
  const file = await open(paths.staging, "wx", 0o600);
  const hash = new Bun.CryptoHasher("sha256");
  let size = 0;
  let collectAt = COLLECT_EVERY_BYTES;
  try {
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new UpdateRejected(413, "update_too_large", `the upload is larger than update.max_size_mb (${maxBytes} bytes)`);
      hash.update(chunk);
      await file.write(chunk);
      if (size >= collectAt) {
        collectAt = size + COLLECT_EVERY_BYTES;
        Bun.gc(true);
      }
    }
    if (size === 0) throw new UpdateRejected(400, "empty_update", "the request body is empty: send the new binary as the body");
    await file.sync();
  } catch (err) {
    await file.close().catch(() => {});
    rmSync(paths.staging, { force: true });
    throw err;
  }
  await file.close();
  return { sha256: hash.digest("hex"), size };
}

/**
 * Signature first (nothing unsigned is even parsed or run), then the whole ELF structure for this
 * machine, then one run of `--version`. Any failure deletes .staging and nothing else changes.
 */
export async function verifyStaged(paths: UpdatePaths, staged: Staged, signature: Buffer, key: KeyObject, arch: string): Promise<void> {
  try {
    if (!verifyDigest(key, staged.sha256, signature)) {
      throw new UpdateRejected(400, "bad_signature", `the signature does not match this file (sha256 ${staged.sha256}) and update.public_key`);
    }
    const file = await open(paths.staging, "r");
    try {
      const elf = await checkElf(fileSource(file, staged.size), arch);
      if (!elf.ok) throw new UpdateRejected(elf.code === "interpreter_missing" ? 422 : 400, elf.code, `the upload ${elf.reason}`);
    } finally {
      await file.close();
    }
    chmodSync(paths.staging, 0o700);
    const run = await runVersion(paths.staging);
    if (!run.ok) throw new UpdateRejected(422, run.code, `the upload ${run.reason}: it cannot run on this machine`);
    reached("staged");
  } catch (err) {
    rmSync(paths.staging, { force: true });
    throw err;
  }
}

/** `to` becomes `from`'s content by hard link and rename: at every instant `to` is whole. */
function replaceByLink(from: string, to: string, linked?: Parameters<typeof reached>[0]): void {
  const tmp = `${to}.tmp`;
  rmSync(tmp, { force: true });
  // Already the same file: rename(2) between two links of one inode does nothing and would leave tmp.
  if (inode(to) !== null && inode(to) === inode(from)) return;
  linkSync(from, tmp);
  if (linked) reached(linked);
  renameSync(tmp, to);
}

/**
 * The verified staging file takes the binary's place. The running process keeps its (old) inode.
 * Order: .previous (the way back) before the journal, the journal before the swap, so that
 * .trial never exists without .previous holding the old binary.
 */
export function install(paths: UpdatePaths, staged: Staged): void {
  const mode = statSync(paths.exe).mode & 0o7777;
  const staging = openSync(paths.staging, "r+");
  try {
    fsyncSync(staging);
  } finally {
    closeSync(staging);
  }
  chmodSync(paths.staging, mode | 0o500);
  replaceByLink(paths.exe, paths.previous, "previous-tmp");
  fsyncDir(paths.exe);
  reached("previous");
  // The inode survives the rename: recover() tells the new binary from the old one by it.
  writeMarker(paths.trial, { sha256: staged.sha256, size: staged.size, ino: inode(paths.staging), installed_at: new Date().toISOString() });
  reached("marked");
  renameSync(paths.staging, paths.exe);
  fsyncDir(paths.exe);
  reached("swapped");
}

function writeMarker(path: string, content: unknown): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(content) + "\n");
  const fd = openSync(tmp, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  reached("marker-tmp");
  renameSync(tmp, path);
  fsyncDir(path);
}

export function onTrial(paths: UpdatePaths): boolean {
  return existsSync(paths.trial);
}

/** The binary on trial reported healthy: it stays. */
export function commit(paths: UpdatePaths): void {
  rmSync(paths.trial, { force: true });
  fsyncDir(paths.exe);
}

/** Whether .previous exists and is another binary than the one in place (so there is a way back). */
export function hasPrevious(paths: UpdatePaths): boolean {
  if (!existsSync(paths.previous)) return false;
  const exe = inode(paths.exe);
  if (exe === null) return true;
  if (exe === inode(paths.previous)) return false;
  // The file the journal installed is in place: it is not .previous (no need to compare bytes).
  if (existsSync(paths.trial) && markerInode(paths.trial) === exe) return true;
  return !sameContent(paths.exe, paths.previous);
}

/**
 * .previous takes the binary's place again; the one taken out is kept as .rejected. False when
 * there is nothing to go back to. Each step is a link and a rename, and .trial goes last, so a
 * rollback cut short is finished by recover() at the next start.
 */
export function rollback(paths: UpdatePaths): boolean {
  if (!hasPrevious(paths)) {
    rmSync(paths.trial, { force: true });
    return false;
  }
  if (existsSync(paths.exe)) {
    replaceByLink(paths.exe, paths.rejected);
    fsyncDir(paths.exe);
    reached("rollback-rejected");
  }
  replaceByLink(paths.previous, paths.exe);
  fsyncDir(paths.exe);
  reached("rollback-restored");
  rmSync(paths.trial, { force: true });
  fsyncDir(paths.exe);
  return true;
}

export type Recovered = "clean" | "leftovers_removed" | "swap_not_done" | "rolled_back" | "no_previous";

/**
 * The supervisor's first act: brings the files to a state without an update in flight, from what
 * is on disk alone. An update that had not proven itself healthy when the supervisor last ran
 * (power cut, kill -9, crash) is undone, deterministically: the old binary serves again.
 */
export function recover(paths: UpdatePaths): Recovered {
  let leftovers = false;
  for (const f of [paths.staging, `${paths.previous}.tmp`, `${paths.trial}.tmp`, `${paths.exe}.tmp`, `${paths.rejected}.tmp`]) {
    if (existsSync(f)) {
      rmSync(f, { force: true });
      leftovers = true;
    }
  }
  if (!existsSync(paths.trial)) {
    if (leftovers) fsyncDir(paths.exe);
    return leftovers ? "leftovers_removed" : "clean";
  }
  if (!existsSync(paths.previous)) {
    rmSync(paths.trial, { force: true });
    fsyncDir(paths.exe);
    return "no_previous";
  }
  if (!hasPrevious(paths)) {
    rmSync(paths.trial, { force: true });
    fsyncDir(paths.exe);
    return "swap_not_done";
  }
  return rollback(paths) ? "rolled_back" : "no_previous";
}

function inode(path: string): string | null {
  try {
    return statSync(path, { bigint: true }).ino.toString();
  } catch {
    return null;
  }
}

/** The inode the journal names; undefined when it cannot be read (then contents decide). */
function markerInode(path: string): string | undefined {
  try {
    const m = JSON.parse(readFileSync(path, "utf8")) as { ino?: unknown };
    return typeof m.ino === "string" ? m.ino : undefined;
  } catch {
    return undefined;
  }
}

/** Same inode, or same size and bytes (a copy made by hand, or a file system without stable inodes). */
function sameContent(a: string, b: string): boolean {
  let sa, sb;
  try {
    sa = statSync(a);
    sb = statSync(b);
  } catch {
    return false;
  }
  if (sa.dev === sb.dev && sa.ino === sb.ino) return true;
  if (sa.size !== sb.size) return false;
  return hashFile(a) === hashFile(b);
}

function hashFile(path: string): string {
  const hash = new Bun.CryptoHasher("sha256");
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}
