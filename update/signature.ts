// Update signatures: Ed25519 over a short statement naming the file's SHA-256, not over the
// file itself. The gateway then verifies a 100 MB upload in constant memory (it hashes while the
// upload streams to disk), and the statement's prefix keeps these signatures from being valid
// for anything else signed with the same key.
import type { KeyObject } from "node:crypto";

/** node:crypto when a key is first used: its import costs some 8 ms, which every start of the
 *  charger would pay whether or not an update key is configured. */
const nodeCrypto = (): typeof import("node:crypto") => process.getBuiltinModule("node:crypto");

const STATEMENT_PREFIX = "evse-manager-update-v1\nsha256:";
/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
export const SIGNATURE_BYTES = 64;

export class KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyError";
  }
}

export function statement(sha256Hex: string): Buffer {
  return Buffer.from(`${STATEMENT_PREFIX}${sha256Hex.toLowerCase()}\n`, "utf8");
}

/** `update.public_key`: a PEM public key, or the raw 32-byte key in base64 (what sign-update prints). */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    if (trimmed.startsWith("-----BEGIN")) key = nodeCrypto().createPublicKey(trimmed);
    else {
      const raw = Buffer.from(trimmed, "base64");
      if (raw.length !== 32 || raw.toString("base64").replace(/=+$/, "") !== trimmed.replace(/=+$/, "")) {
        throw new KeyError("must be a PEM public key or 32 bytes in base64");
      }
      key = nodeCrypto().createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: "der", type: "spki" });
    }
  } catch (err) {
    if (err instanceof KeyError) throw err;
    throw new KeyError(`is not a readable public key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new KeyError(`must be an Ed25519 key, got ${key.asymmetricKeyType}`);
  return key;
}

export function parsePrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = nodeCrypto().createPrivateKey(pem);
  } catch (err) {
    throw new KeyError(`is not a readable private key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new KeyError(`must be an Ed25519 key, got ${key.asymmetricKeyType}`);
  return key;
}

/** The raw public key in base64: the form `update.public_key` takes. */
export function publicKeyBase64(key: KeyObject): string {
  const der = nodeCrypto().createPublicKey(key).export({ format: "der", type: "spki" });
  return der.subarray(ED25519_SPKI_PREFIX.length).toString("base64");
}

export function generateKeyPair(): { privatePem: string; publicBase64: string } {
  const { privateKey } = nodeCrypto().generateKeyPairSync("ed25519");
  return { privatePem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(), publicBase64: publicKeyBase64(privateKey) };
}

/** The detached signature, base64: the content of BINARY.sig and of the X-Update-Signature header. */
export function signDigest(privateKey: KeyObject, sha256Hex: string): string {
  return nodeCrypto().sign(null, statement(sha256Hex), privateKey).toString("base64");
}

/** Decodes a base64 signature; null when it is not 64 bytes of base64. */
export function decodeSignature(text: string): Buffer | null {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return null;
  const sig = Buffer.from(t, "base64");
  return sig.length === SIGNATURE_BYTES ? sig : null;
}

export function verifyDigest(publicKey: KeyObject, sha256Hex: string, signature: Buffer): boolean {
  try {
    return nodeCrypto().verify(null, statement(sha256Hex), publicKey, signature);
  } catch {
    return false;
  }
}
