// Which machine an executable is for, read from its ELF header: an upload for the wrong
// architecture is refused before it can replace the running binary.
import type { FileHandle } from "node:fs/promises";

const E_MACHINE: Record<number, string> = { 62: "x64", 183: "arm64", 40: "arm", 3: "ia32" };

export type ElfCheck = { ok: true; arch: string } | { ok: false; reason: string };

/** `header` is at least the first 20 bytes of the file. */
export function elfArch(header: Uint8Array): ElfCheck {
  if (header.length < 20 || header[0] !== 0x7f || header[1] !== 0x45 || header[2] !== 0x4c || header[3] !== 0x46) {
    return { ok: false, reason: "is not an ELF executable" };
  }
  if (header[4] !== 2) return { ok: false, reason: "is not a 64-bit ELF executable" };
  const little = header[5] === 1;
  const machine = little ? header[18]! | (header[19]! << 8) : (header[18]! << 8) | header[19]!;
  const arch = E_MACHINE[machine];
  return arch === undefined ? { ok: false, reason: `is for an unknown machine (ELF e_machine ${machine})` } : { ok: true, arch };
}

export async function elfArchOfFile(file: FileHandle): Promise<ElfCheck> {
  const header = Buffer.alloc(20);
  const { bytesRead } = await file.read(header, 0, 20, 0);
  return elfArch(header.subarray(0, bytesRead));
}
