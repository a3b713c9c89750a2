// The CryptoAdapter that @road-labs/ocmf's Signer and Verifier need, over node:crypto (which Bun
// implements natively). The library ships only the interface (@road-labs/ocmf-crypto), so the
// types come from there and the work is done here: ECDSA with DER signatures (OCMF `SM`
// application/x-der), keys as PKCS#8 / SubjectPublicKeyInfo DER.
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
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

/** OpenSSL curve names (KeyObject.asymmetricKeyDetails.namedCurve) → OCMF curve names. */
const CURVES: Record<string, Curve> = {
  prime256v1: "secp256r1",
  secp256r1: "secp256r1",
  secp384r1: "secp384r1",
  secp256k1: "secp256k1",
  prime192v1: "secp192r1",
  brainpoolP256r1: "brainpool256r1",
  brainpoolP384r1: "brainpool384r1",
};

function curveOf(key: KeyObject): Curve {
  const named = key.asymmetricKeyType === "ec" ? key.asymmetricKeyDetails?.namedCurve : undefined;
  const curve = named === undefined ? undefined : CURVES[named];
  if (curve === undefined) {
    throw new Error(`not an EC key on a curve OCMF knows (${key.asymmetricKeyType ?? "?"} ${named ?? ""})`.trim());
  }
  return curve;
}

export class NodeEcPublicKey implements EcPublicKey {
  readonly curve: Curve;
  constructor(readonly key: KeyObject) {
    this.curve = curveOf(key);
  }
  getCurve(): Curve {
    return this.curve;
  }
  encode(format: PublicKeyFormat): Uint8Array {
    if (format !== "spki-der") throw new Error(`unsupported public key format ${format}`);
    return new Uint8Array(this.key.export({ type: "spki", format: "der" }));
  }
}

export class NodeEcPrivateKey implements EcPrivateKey {
  readonly curve: Curve;
  readonly publicKey: NodeEcPublicKey;
  constructor(readonly key: KeyObject) {
    this.curve = curveOf(key);
    this.publicKey = new NodeEcPublicKey(createPublicKey(key));
  }
  getCurve(): Curve {
    return this.curve;
  }
  getPublicKey(): NodeEcPublicKey {
    return this.publicKey;
  }
}

function nodeHash(hash: Hash): string {
  if (hash !== "SHA-256") throw new Error(`unsupported hash ${hash}`);
  return "sha256";
}

function checkSignatureFormat(format: SignatureFormat): void {
  if (format !== "sigvalue-der") throw new Error(`unsupported signature format ${format}`);
}

function keyObjectOf(key: EcPrivateKey | EcPublicKey): KeyObject {
  if (key instanceof NodeEcPrivateKey || key instanceof NodeEcPublicKey) return key.key;
  throw new Error("key was not made by NodeCryptoAdapter");
}

export class NodeCryptoAdapter implements CryptoAdapter {
  decodeEcPrivateKey(value: Uint8Array, format: PrivateKeyFormat): NodeEcPrivateKey {
    if (format !== "pkcs8-der") throw new Error(`unsupported private key format ${format}`);
    return new NodeEcPrivateKey(createPrivateKey({ key: Buffer.from(value), format: "der", type: "pkcs8" }));
  }

  decodeEcPublicKey(value: Uint8Array, format: PublicKeyFormat): NodeEcPublicKey {
    if (format !== "spki-der") throw new Error(`unsupported public key format ${format}`);
    return new NodeEcPublicKey(createPublicKey({ key: Buffer.from(value), format: "der", type: "spki" }));
  }

  sign(data: Uint8Array, privateKey: EcPrivateKey, hash: Hash, format: SignatureFormat): Uint8Array {
    checkSignatureFormat(format);
    return new Uint8Array(sign(nodeHash(hash), data, { key: keyObjectOf(privateKey), dsaEncoding: "der" }));
  }

  verify(signature: Uint8Array, data: Uint8Array, key: EcPublicKey, hash: Hash, format: SignatureFormat): boolean {
    checkSignatureFormat(format);
    try {
      return verify(nodeHash(hash), data, { key: keyObjectOf(key), dsaEncoding: "der" }, signature);
    } catch {
      return false; // a malformed DER signature is simply not a valid one
    }
  }
}
