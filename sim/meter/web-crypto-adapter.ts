// The CryptoAdapter that @road-labs/ocmf's Signer and Verifier need, over Web Crypto (the global
// `crypto.subtle`, native in Bun): ECDSA with DER signatures (OCMF `SM` application/x-der), keys
// as PKCS#8 / SubjectPublicKeyInfo DER. Not node:crypto: its import costs some 8 ms of every
// start of the charger, and its curves here are the same two (Bun's BoringSSL has neither the
// brainpool curves nor secp192r1 or secp256k1).
import type {
  CryptoAdapter,
  Curve,
  EcPrivateKey,
  EcPublicKey,
  Hash,
  PrivateKeyFormat,
  PublicKeyFormat,
  SignatureFormat,
} from "@road-labs/ocmf-crypto";
import { ecdsaSignatureFromDer, ecdsaSignatureToDer, pkcs8CurveOid, spkiCurveOid } from "./der.ts";

interface WebCurve {
  curve: Curve;
  namedCurve: "P-256" | "P-384";
  /** Bytes of r and of s. */
  size: number;
}

/** By the curve's OID (DER body, hex): the OCMF curves Web Crypto has. */
const CURVES: Record<string, WebCurve> = {
  "2a8648ce3d030107": { curve: "secp256r1", namedCurve: "P-256", size: 32 },
  "2b81040022": { curve: "secp384r1", namedCurve: "P-384", size: 48 },
};

/** A copy Web Crypto's types accept (its inputs may not be views of a SharedArrayBuffer). */
const own = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);

function webCurve(oid: string): WebCurve {
  const c = CURVES[oid];
  if (c === undefined) throw new Error(`not an EC key on a curve this meter supports (OID ${oid}; P-256 and P-384 are)`);
  return c;
}

export class WebEcPublicKey implements EcPublicKey {
  constructor(
    readonly key: CryptoKey,
    readonly webCurve: WebCurve,
    /** The SubjectPublicKeyInfo DER it was made from. */
    readonly spki: Uint8Array,
  ) {}
  getCurve(): Curve {
    return this.webCurve.curve;
  }
  encode(format: PublicKeyFormat): Uint8Array {
    if (format !== "spki-der") throw new Error(`unsupported public key format ${format}`);
    return this.spki;
  }
}

export class WebEcPrivateKey implements EcPrivateKey {
  constructor(
    readonly key: CryptoKey,
    readonly publicKey: WebEcPublicKey,
  ) {}
  getCurve(): Curve {
    return this.publicKey.getCurve();
  }
  getPublicKey(): WebEcPublicKey {
    return this.publicKey;
  }
}

async function publicKeyFromSpki(spki: Uint8Array): Promise<WebEcPublicKey> {
  const c = webCurve(spkiCurveOid(spki));
  const key = await crypto.subtle.importKey("spki", own(spki), { name: "ECDSA", namedCurve: c.namedCurve }, true, ["verify"]);
  return new WebEcPublicKey(key, c, spki);
}

/** A fresh key pair on `curve` (P-256 for the meter's ECDSA-secp256r1-SHA256). */
export async function generateEcPrivateKey(curve: Curve): Promise<WebEcPrivateKey> {
  const c = Object.values(CURVES).find((w) => w.curve === curve);
  if (c === undefined) throw new Error(`unsupported curve ${curve}`);
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: c.namedCurve }, true, ["sign", "verify"]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  return new WebEcPrivateKey(pair.privateKey, new WebEcPublicKey(pair.publicKey, c, spki));
}

function checkHash(hash: Hash): void {
  if (hash !== "SHA-256") throw new Error(`unsupported hash ${hash}`);
}

function checkSignatureFormat(format: SignatureFormat): void {
  if (format !== "sigvalue-der") throw new Error(`unsupported signature format ${format}`);
}

function made<K>(key: unknown, kind: abstract new (...args: never[]) => K): K {
  if (key instanceof kind) return key;
  throw new Error("key was not made by WebCryptoAdapter");
}

export class WebCryptoAdapter implements CryptoAdapter {
  async decodeEcPrivateKey(value: Uint8Array, format: PrivateKeyFormat): Promise<WebEcPrivateKey> {
    if (format !== "pkcs8-der") throw new Error(`unsupported private key format ${format}`);
    const c = webCurve(pkcs8CurveOid(value));
    const key = await crypto.subtle.importKey("pkcs8", own(value), { name: "ECDSA", namedCurve: c.namedCurve }, true, ["sign"]);
    // Web Crypto derives no public key from a private one; the JWK form carries both points.
    const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", key);
    const pub = await crypto.subtle.importKey("jwk", { kty, crv, x, y }, { name: "ECDSA", namedCurve: c.namedCurve }, true, ["verify"]);
    const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pub));
    return new WebEcPrivateKey(key, new WebEcPublicKey(pub, c, spki));
  }

  async decodeEcPublicKey(value: Uint8Array, format: PublicKeyFormat): Promise<WebEcPublicKey> {
    if (format !== "spki-der") throw new Error(`unsupported public key format ${format}`);
    return publicKeyFromSpki(value);
  }

  async sign(data: Uint8Array, privateKey: EcPrivateKey, hash: Hash, format: SignatureFormat): Promise<Uint8Array> {
    checkHash(hash);
    checkSignatureFormat(format);
    const raw = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, made(privateKey, WebEcPrivateKey).key, own(data));
    return ecdsaSignatureToDer(new Uint8Array(raw));
  }

  async verify(signature: Uint8Array, data: Uint8Array, key: EcPublicKey, hash: Hash, format: SignatureFormat): Promise<boolean> {
    checkHash(hash);
    checkSignatureFormat(format);
    const pub = made(key, WebEcPublicKey);
    // A malformed DER signature is simply not a valid one.
    const raw = ecdsaSignatureFromDer(signature, pub.webCurve.size);
    return raw !== null && crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pub.key, raw, own(data));
  }
}
