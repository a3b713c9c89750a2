// The little DER the OCMF meter needs beside Web Crypto: ECDSA signatures as X.509
// ECDSA-Sig-Value (OCMF `SD` is DER, Web Crypto signs and verifies raw r‖s), and the named curve
// of a PKCS#8 or SubjectPublicKeyInfo key, which Web Crypto must be told before it imports one.
// Only definite lengths below 64 KiB: nothing larger is a key or a signature on these curves.

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OID = 0x06;

interface Tlv {
  tag: number;
  body: Uint8Array;
  /** Offset just past this element. */
  end: number;
}

function readTlv(der: Uint8Array, at: number): Tlv {
  if (at + 2 > der.length) throw new Error("DER: truncated");
  const tag = der[at]!;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 2 || start + n > der.length) throw new Error("DER: unsupported length");
    len = n === 1 ? der[start]! : (der[start]! << 8) | der[start + 1]!;
    start += n;
  }
  if (start + len > der.length) throw new Error("DER: truncated");
  return { tag, body: der.subarray(start, start + len), end: start + len };
}

/** The elements of a SEQUENCE's body. */
function children(body: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < body.length; at = out[out.length - 1]!.end) out.push(readTlv(body, at));
  return out;
}

function sequence(der: Uint8Array): Tlv[] {
  const top = readTlv(der, 0);
  if (top.tag !== SEQUENCE || top.end !== der.length) throw new Error("DER: not one SEQUENCE");
  return children(top.body);
}

function header(tag: number, length: number): number[] {
  return length < 0x80 ? [tag, length] : [tag, 0x81, length];
}

/** A non-negative big-endian integer as a DER INTEGER: no superfluous leading zeros, one zero
 *  byte before a leading bit that would make it negative. */
function derInteger(magnitude: Uint8Array): number[] {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const bytes = [...magnitude.subarray(i)];
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return [...header(INTEGER, bytes.length), ...bytes];
}

/** Web Crypto's r‖s (two halves of the curve's size) as DER ECDSA-Sig-Value. */
export function ecdsaSignatureToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  const body = [...derInteger(raw.subarray(0, half)), ...derInteger(raw.subarray(half))];
  return new Uint8Array([...header(SEQUENCE, body.length), ...body]);
}

/** DER ECDSA-Sig-Value as r‖s of `size` bytes each; null when it is not one, or r or s is wider. */
export function ecdsaSignatureFromDer(der: Uint8Array, size: number): Uint8Array<ArrayBuffer> | null {
  try {
    const parts = sequence(der);
    if (parts.length !== 2 || parts.some((p) => p.tag !== INTEGER || p.body.length === 0)) return null;
    const raw = new Uint8Array(2 * size);
    for (const [k, p] of parts.entries()) {
      let v = p.body;
      if (v[0]! & 0x80) return null; // negative
      while (v.length > 1 && v[0] === 0) v = v.subarray(1);
      if (v.length > size) return null;
      raw.set(v, (k + 1) * size - v.length);
    }
    return raw;
  } catch {
    return null;
  }
}

/** The named curve's OID (DER body, hex) of an EC key's AlgorithmIdentifier. */
function curveOfAlgorithm(algorithm: Tlv | undefined): string {
  const ids = algorithm?.tag === SEQUENCE ? children(algorithm.body) : [];
  if (ids.length !== 2 || ids[0]!.tag !== OID || ids[1]!.tag !== OID || hex(ids[0]!.body) !== EC_PUBLIC_KEY_OID) {
    throw new Error("not an EC key with a named curve");
  }
  return hex(ids[1]!.body);
}

/** id-ecPublicKey, 1.2.840.10045.2.1. */
const EC_PUBLIC_KEY_OID = "2a8648ce3d0201";
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** The curve OID (hex) of a DER SubjectPublicKeyInfo. */
export function spkiCurveOid(spki: Uint8Array): string {
  return curveOfAlgorithm(sequence(spki)[0]);
}

/** The curve OID (hex) of a DER PKCS#8 PrivateKeyInfo. */
export function pkcs8CurveOid(pkcs8: Uint8Array): string {
  return curveOfAlgorithm(sequence(pkcs8)[1]);
}
