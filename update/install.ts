// The files of an update, all beside the running binary (one directory, one filesystem, so every
// swap is a rename):
//   evse-manager            the binary that runs
//   evse-manager.staging    an upload being received and checked; never run
//   evse-manager.previous   the binary the last update replaced: the way back
//   evse-manager.trial      marker: the binary in place is on trial until it reports healthy
//   evse-manager.rejected   the binary the last rollback took out, kept for diagnosis
// Nothing in place changes until an upload is complete, fsynced, signed and for this machine.
import { createHash } from "node:crypto";
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, openSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname } from "node:path";
import type { KeyObject } from "node:crypto";
import { elfArchOfFile } from "./elf.ts";
import { verifyDigest } from "./signature.ts";

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
    readonly status: 400 | 409 | 413,
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

/** Streams the upload to the staging file, hashing as it goes; stops at maxBytes. */
export async function stage(body: AsyncIterable<Uint8Array>, paths: UpdatePaths, maxBytes: number): Promise<Staged> {
  rmSync(paths.staging, { force: true });
  const file = await open(paths.staging, "wx", 0o600);
  const hash = createHash("sha256");
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new UpdateRejected(413, "update_too_large", `the upload is larger than update.max_size_mb (${maxBytes} bytes)`);
      hash.update(chunk);
      await file.write(chunk);
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

/** Signature first (nothing unsigned is even parsed), then the machine it is built for. */
export async function verifyStaged(paths: UpdatePaths, staged: Staged, signature: Buffer, key: KeyObject, arch: string): Promise<void> {
  try {
    if (!verifyDigest(key, staged.sha256, signature)) {
      throw new UpdateRejected(400, "bad_signature", `the signature does not match this file (sha256 ${staged.sha256}) and update.public_key`);
    }
    const file = await open(paths.staging, "r");
    try {
      const elf = await elfArchOfFile(file);
      if (!elf.ok) throw new UpdateRejected(400, "not_an_executable", `the upload ${elf.reason}`);
      if (elf.arch !== arch) throw new UpdateRejected(400, "wrong_architecture", `the upload is built for ${elf.arch}, this machine runs ${arch}`);
    } finally {
      await file.close();
    }
  } catch (err) {
    rmSync(paths.staging, { force: true });
    throw err;
  }
}

/** `to` becomes `from`'s content by hard link and rename: at every instant `to` is whole. */
function replaceByLink(from: string, to: string): void {
  const tmp = `${to}.tmp`;
  rmSync(tmp, { force: true });
  linkSync(from, tmp);
  renameSync(tmp, to);
}

/**
 * The verified staging file takes the binary's place. The running process keeps its (old) inode;
 * the old binary stays reachable as .previous. The trial marker is written before the swap, so a
 * power cut between the two at worst puts the old binary on trial, never the new one untried.
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
  replaceByLink(paths.exe, paths.previous);
  writeMarker(paths.trial, { sha256: staged.sha256, size: staged.size, installed_at: new Date().toISOString() });
  renameSync(paths.staging, paths.exe);
  fsyncDir(paths.exe);
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
  renameSync(tmp, path);
}

export function onTrial(paths: UpdatePaths): boolean {
  return existsSync(paths.trial);
}

/** The binary on trial reported healthy: it stays. */
export function commit(paths: UpdatePaths): void {
  rmSync(paths.trial, { force: true });
  fsyncDir(paths.exe);
}

/** The binary on trial failed: .previous takes its place again, the failed one is kept as .rejected. */
export function rollback(paths: UpdatePaths): boolean {
  if (!existsSync(paths.previous)) {
    rmSync(paths.trial, { force: true });
    return false;
  }
  replaceByLink(paths.exe, paths.rejected);
  replaceByLink(paths.previous, paths.exe);
  rmSync(paths.trial, { force: true });
  fsyncDir(paths.exe);
  return true;
}
