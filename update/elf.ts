// Whether an executable can be loaded on this machine, read from its ELF structure: the header
// (class, byte order, type, machine), the program header table and every segment it names (all
// inside the file), an entry point inside an executable segment, and the program interpreter
// (PT_INTERP, the dynamic loader such as /lib64/ld-linux-x86-64.so.2), which must exist here.
// The kernel checks the same things when it executes the file; checking them first means an
// upload that the kernel would refuse (ENOEXEC) or that has no loader here (ENOENT) is refused
// before it can replace the running binary.
import { statSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";

const E_MACHINE: Record<number, string> = { 62: "x64", 183: "arm64", 40: "arm", 3: "ia32" };

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const ET_EXEC = 2;
const ET_DYN = 3;
const PT_LOAD = 1;
const PT_INTERP = 3;
const PF_X = 1;
/** Linux refuses more program headers than fit in 64 KiB; real binaries have about a dozen. */
const MAX_PHNUM = 65536 / PHDR_SIZE;
/** PATH_MAX; the kernel refuses a longer interpreter path. */
const MAX_INTERP = 4096;

/** Why a file cannot run here; `code` is the API's error code. */
export type ElfProblem = { code: "not_an_executable" | "wrong_architecture" | "interpreter_missing"; reason: string };

export type ElfCheck = { ok: true; arch: string; interpreter: string | null } | ({ ok: false } & ElfProblem);

/** Random access to the file being checked (a FileHandle in production, a buffer in tests). */
export interface ElfSource {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

const notExecutable = (reason: string): ElfCheck => ({ ok: false, code: "not_an_executable", reason });

/**
 * Checks the whole ELF structure of an executable for `arch` (process.arch). `interpreterExists`
 * decides whether the PT_INTERP path is present on this system (a regular file by default).
 */
export async function checkElf(src: ElfSource, arch: string, interpreterExists: (path: string) => boolean = isRegularFile): Promise<ElfCheck> {
  if (src.size < EHDR_SIZE) return notExecutable(`is not an ELF executable (${src.size} bytes, shorter than an ELF header)`);
  const h = await src.read(0, EHDR_SIZE);
  if (h[0] !== 0x7f || h[1] !== 0x45 || h[2] !== 0x4c || h[3] !== 0x46) return notExecutable("is not an ELF executable");
  if (h[4] !== 2) return notExecutable("is not a 64-bit ELF executable");
  // Both gateway architectures are little-endian; a big-endian file cannot be for them.
  if (h[5] !== 1) return notExecutable("is not a little-endian ELF executable");
  if (h[6] !== 1) return notExecutable(`has an unknown ELF version (${h[6]})`);
  const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const type = dv.getUint16(16, true);
  const machineNumber = dv.getUint16(18, true);
  const machine = E_MACHINE[machineNumber];
  if (machine === undefined) return { ok: false, code: "wrong_architecture", reason: `is for an unknown machine (ELF e_machine ${machineNumber}), this machine runs ${arch}` };
  if (machine !== arch) return { ok: false, code: "wrong_architecture", reason: `is built for ${machine}, this machine runs ${arch}` };
  if (type !== ET_EXEC && type !== ET_DYN) return notExecutable(`is an ELF file of type ${type}, not an executable`);
  const entry = dv.getBigUint64(24, true);
  const phoff = dv.getBigUint64(32, true);
  const ehsize = dv.getUint16(52, true);
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (ehsize !== EHDR_SIZE || phentsize !== PHDR_SIZE) return notExecutable(`has a malformed ELF header (e_ehsize ${ehsize}, e_phentsize ${phentsize})`);
  if (phnum === 0 || phnum > MAX_PHNUM) return notExecutable(`has ${phnum} program headers`);
  const size = BigInt(src.size);
  if (phoff < EHDR_SIZE || phoff + BigInt(phnum * PHDR_SIZE) > size) {
    return notExecutable(`has its program header table (offset ${phoff}, ${phnum} entries) outside the file (${src.size} bytes)`);
  }
  const table = await src.read(Number(phoff), phnum * PHDR_SIZE);
  const pv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  let loads = 0;
  let entryExecutable = false;
  let interp: { offset: bigint; size: bigint } | null = null;
  for (let k = 0; k < phnum; k++) {
    const at = k * PHDR_SIZE;
    const pType = pv.getUint32(at, true);
    const flags = pv.getUint32(at + 4, true);
    const offset = pv.getBigUint64(at + 8, true);
    const vaddr = pv.getBigUint64(at + 16, true);
    const filesz = pv.getBigUint64(at + 32, true);
    const memsz = pv.getBigUint64(at + 40, true);
    if (pType !== PT_LOAD && pType !== PT_INTERP) continue;
    if (offset + filesz > size) return notExecutable(`has segment ${k} (offset ${offset}, ${filesz} bytes) beyond the end of the file (${src.size} bytes)`);
    if (pType === PT_INTERP) {
      if (interp !== null) return notExecutable("names more than one program interpreter");
      interp = { offset, size: filesz };
      continue;
    }
    if (filesz > memsz) return notExecutable(`has loadable segment ${k} larger in the file than in memory`);
    loads++;
    if ((flags & PF_X) !== 0 && entry >= vaddr && entry < vaddr + memsz) entryExecutable = true;
  }
  if (loads === 0) return notExecutable("has no loadable segment");
  if (!entryExecutable) return notExecutable(`has its entry point (0x${entry.toString(16)}) outside every executable segment`);
  if (interp === null) return { ok: true, arch: machine, interpreter: null };
  if (interp.size < 2n || interp.size > BigInt(MAX_INTERP)) return notExecutable(`has a malformed program interpreter entry (${interp.size} bytes)`);
  const raw = await src.read(Number(interp.offset), Number(interp.size));
  const nul = raw.indexOf(0);
  if (nul !== raw.length - 1) return notExecutable("has a program interpreter path that is not one NUL-terminated string");
  const path = new TextDecoder("utf-8", { fatal: false }).decode(raw.subarray(0, nul));
  if (!path.startsWith("/")) return notExecutable(`names a relative program interpreter ("${path}")`);
  if (!interpreterExists(path)) {
    return { ok: false, code: "interpreter_missing", reason: `needs the program interpreter ${path}, which does not exist on this machine` };
  }
  return { ok: true, arch: machine, interpreter: path };
}

function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function fileSource(file: FileHandle, size: number): ElfSource {
  return {
    size,
    async read(offset, length) {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await file.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    },
  };
}

export function bufferSource(bytes: Uint8Array): ElfSource {
  return { size: bytes.length, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}
