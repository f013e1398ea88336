/**
 * The crypto backend interface. The core (canonical JSON, model, verification) calls only this, so it runs
 * wherever some implementation does: `node:crypto` (src/crypto/node.ts — native, fast, FIPS-capable) or the
 * pure-JS @noble backend (src/crypto/noble.ts). Both must give identical answers on the same vectors.
 *
 * Keys cross this boundary already decoded (the core owns DER/PEM/x509 parsing), so a backend only does
 * arithmetic: hash, sign, verify, generate.
 */

export type EcCurve = 'P-256' | 'P-384' | 'P-521';

/** A public key in the form a backend needs. `spki` is the DER SubjectPublicKeyInfo where one exists. */
export type PublicKeyMaterial =
  | { kind: 'ed25519'; raw: Uint8Array /* 32 bytes */ }
  | { kind: 'ecdsa'; curve: EcCurve; point: Uint8Array /* uncompressed SEC1: 0x04‖X‖Y */; spki: Uint8Array }
  | { kind: 'rsa'; n: Uint8Array /* big-endian, no leading zero */; e: Uint8Array; spki: Uint8Array };

/** A private key. Big integers are big-endian unsigned bytes. */
export type PrivateKeyMaterial =
  | { kind: 'ed25519'; seed: Uint8Array /* 32 bytes */; publicKey: Uint8Array /* 32 bytes */ }
  | { kind: 'ecdsa'; curve: EcCurve; d: Uint8Array /* scalar, left-padded to the field size */; point: Uint8Array }
  | {
      kind: 'rsa';
      n: Uint8Array;
      e: Uint8Array;
      d: Uint8Array;
      p: Uint8Array;
      q: Uint8Array;
      dp: Uint8Array;
      dq: Uint8Array;
      qi: Uint8Array;
    };

/**
 * Notary's signature methods (the `method` field):
 * - `ecdsa`: ECDSA over SHA-256 of the message for every curve, signature raw r‖s (IEEE P1363), each half
 *   left-padded to the field size. High-S signatures are valid (Go does not normalise S).
 * - `eddsa`: pure Ed25519, 64-byte signature.
 * - `rsapss`: RSASSA-PSS, SHA-256, MGF1-SHA-256, salt length exactly 32.
 * - `rsapkcs1v15`: RSASSA-PKCS1-v1_5 with SHA-256 (verify only in Notary).
 */
export type SignatureMethod = 'ecdsa' | 'eddsa' | 'rsapss' | 'rsapkcs1v15';

export interface CryptoBackend {
  readonly name: string;
  sha256(data: Uint8Array): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
  /** Returns false for any invalid signature, including wrong lengths; throws only on unusable keys. */
  verify(method: SignatureMethod, key: PublicKeyMaterial, message: Uint8Array, signature: Uint8Array): boolean;
  /** Signs; for ecdsa returns raw r‖s, for rsapss a PSS signature with salt 32. */
  sign(method: SignatureMethod, key: PrivateKeyMaterial, message: Uint8Array): Uint8Array;
  /** Generates a new key. Notary generates ecdsa P-256 (and ed25519 on servers); RSA is import-only. */
  generateKey(kind: 'ecdsa' | 'ed25519'): PrivateKeyMaterial;
  randomBytes(length: number): Uint8Array;
}
