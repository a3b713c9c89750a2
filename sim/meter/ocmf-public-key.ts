// The product's OCMF public-key representation (standards.md §2.3): the DER SubjectPublicKeyInfo
// as upper-case hex without separators (P-256: 182 digits starting 3059301306072A8648CE3D0201),
// the form transparency software accepts. Published as `powermeter_public_key_ocmf` and carried
// in `SignedMeterValue.public_key`; never inside the OCMF record itself.
import type { ParseAndVerifyResult } from "@road-labs/ocmf";
import { WebCryptoAdapter, type WebEcPublicKey } from "./web-crypto-adapter.ts";

const adapter = new WebCryptoAdapter();

export function encodeOcmfPublicKey(key: WebEcPublicKey): string {
  return Buffer.from(key.encode("spki-der")).toString("hex").toUpperCase();
}

/** Rejects with an Error naming `public_key` when the text is not hex DER SubjectPublicKeyInfo of an
 *  EC key on P-256 or P-384. */
export async function decodeOcmfPublicKey(hex: string): Promise<WebEcPublicKey> {
  if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new Error("public_key: must be hexadecimal DER SubjectPublicKeyInfo");
  try {
    return await adapter.decodeEcPublicKey(new Uint8Array(Buffer.from(hex, "hex")), "spki-der");
  } catch (e) {
    throw new Error(`public_key: not an EC SubjectPublicKeyInfo (${(e as Error).message})`);
  }
}

/** Verifies an OCMF record `OCMF|{payload}|{signature}` against a published public key.
 * A malformed record counts as not verified rather than throwing. */
export async function verifyOcmfRecord(record: string, publicKeyHex: string): Promise<ParseAndVerifyResult> {
  const key = await decodeOcmfPublicKey(publicKeyHex);
  try {
    // Loaded here, on the first verification: the library is a chunk of its own, not read by a start.
    const { Verifier } = await import("@road-labs/ocmf");
    return await new Verifier(adapter).parseAndVerify(record, key);
  } catch {
    return { verified: false };
  }
}
