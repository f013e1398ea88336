/**
 * Notary private key files (`<trust_dir>/private/<id>.key`): reading every form Notary 0.7 reads and writing
 * exactly what it writes (notary-facts §6.2/§6.3).
 *
 * Written (Go's `ConvertPrivateKeyToPKCS8`):
 * - `ENCRYPTED PRIVATE KEY`: PKCS#8 EncryptedPrivateKeyInfo, PBES2 { PBKDF2 { salt: 8 random bytes, 2048
 *   iterations } (no keyLength, no PRF element = HMAC-SHA1), AES-256-CBC { 16-byte random IV } }, PKCS#7
 *   padding, over Notary's PrivateKeyInfo layout (src/core/pkcs8.ts).
 * - `PRIVATE KEY` (unencrypted PKCS#8) when the passphrase is empty.
 * - PEM headers `role` and `gun` (when non-empty), Go's order: `Proc-Type` first, the rest sorted.
 *
 * Read (Go's `ParsePEMPrivateKey`; only the first PEM block of a file counts):
 * - `ENCRYPTED PRIVATE KEY`: PBES2 + PBKDF2 + AES-256-CBC only. Like Notary, trailing PBKDF2 parameters
 *   (keyLength, PRF) are ignored and HMAC-SHA1 is always used, so a key encrypted with OpenSSL 3's default
 *   (hmacWithSHA256) cannot be opened by Notary: we refuse it too, with UNSUPPORTED_ALGORITHM saying why.
 * - `PRIVATE KEY`: unencrypted PKCS#8 (Notary's layouts and the standard EC/RSA ones).
 * - legacy `EC PRIVATE KEY` (SEC1), `RSA PRIVATE KEY` (PKCS#1), `ED25519 PRIVATE KEY` (96-byte blob), either
 *   plain or OpenSSL-encrypted (`Proc-Type: 4,ENCRYPTED` + `DEK-Info: <cipher>,<hex IV>`, key from
 *   EVP_BytesToKey with MD5, one round, salt = first 8 IV bytes; AES-128/192/256-CBC and DES-EDE3-CBC).
 *
 * Node's createPrivateKey refuses these PEMs (extra headers first, Notary's Ed25519 OID), so the ASN.1 is
 * decoded with src/core/der.ts and only PBKDF2/MD5/AES come from node:crypto.
 *
 * Errors: a structurally broken file is KeyError MALFORMED_KEY naming the file; an unsupported algorithm is
 * KeyError UNSUPPORTED_ALGORITHM / UNSUPPORTED_KEY_TYPE; a passphrase that does not decrypt the key (bad
 * padding, or plaintext that is not a PrivateKeyInfo / key structure) is KeyStoreError BAD_PASSPHRASE. A
 * wrong passphrase can pass the CBC padding check by chance (about 1 in 256), so the decrypted DER is always
 * parsed and the key checked for consistency (EC point = d·G, Ed25519 public key = f(seed), RSA n = p·q)
 * before it is accepted. Passphrases never appear in messages.
 */
import { createCipheriv, createDecipheriv, createECDH, createHash, createPrivateKey, createPublicKey, pbkdf2Sync, randomBytes } from 'node:crypto';
import { bytesEqual, fromHex } from '../core/bytes.js';
import type { CryptoBackend, PrivateKeyMaterial } from '../core/crypto.js';
import {
  DerSequence,
  Tag,
  derInteger,
  derOctetString,
  derOid,
  derSequence,
  readOctetString,
  readOid,
  readSmallInt,
  readTlv,
} from '../core/der.js';
import { KeyError, KeyStoreError, NotaryError } from '../core/errors.js';
import { publicKeyOf } from '../core/init.js';
import { tufKeyId } from '../core/keys.js';
import { decodePem, encodePem, type PemBlock } from '../core/pem.js';
import { decodeEd25519Blob, decodePkcs1RsaPrivateKey, decodePkcs8, decodeSec1EcPrivateKey, encodePkcs8 } from '../core/pkcs8.js';
import { nodeCryptoBackend } from '../crypto/node.js';

export const PBES2_OID = '1.2.840.113549.1.5.13';
export const PBKDF2_OID = '1.2.840.113549.1.5.12';
export const AES256_CBC_OID = '2.16.840.1.101.3.4.1.42';
export const HMAC_SHA1_OID = '1.2.840.113549.2.7';
/** What Notary 0.7 writes. */
export const PBKDF2_ITERATIONS = 2048;
const SALT_BYTES = 8;
const IV_BYTES = 16;
/** A hostile file must not make us spin: Notary writes 2048, OpenSSL defaults to 2048. */
const MAX_ITERATIONS = 10_000_000;

const PRF_NAMES: Record<string, string> = {
  '1.2.840.113549.2.7': 'hmacWithSHA1',
  '1.2.840.113549.2.8': 'hmacWithSHA224',
  '1.2.840.113549.2.9': 'hmacWithSHA256',
  '1.2.840.113549.2.10': 'hmacWithSHA384',
  '1.2.840.113549.2.11': 'hmacWithSHA512',
};

export const PKCS8_TYPES = ['ENCRYPTED PRIVATE KEY', 'PRIVATE KEY'] as const;
export const LEGACY_TYPES = ['EC PRIVATE KEY', 'RSA PRIVATE KEY', 'ED25519 PRIVATE KEY'] as const;

/** What can be learnt from a key file without a passphrase (Go's ExtractPrivateKeyAttributes). */
export interface KeyFileInfo {
  /** The first PEM block's type. */
  readonly type: string;
  /** `role` header, '' when absent. */
  readonly role: string;
  /** `gun` header, '' when absent. */
  readonly gun: string;
  /** Needs a passphrase: `ENCRYPTED PRIVATE KEY` or a legacy block with a DEK-Info header. */
  readonly encrypted: boolean;
  /** A pre-0.4 OpenSSL "traditional" block (EC/RSA/ED25519 PRIVATE KEY). */
  readonly legacy: boolean;
  /** The first PEM block, headers in file order. */
  readonly block: PemBlock;
}

function where(file: string | undefined): string {
  return file === undefined ? 'key file' : `key file ${file}`;
}

function malformed(file: string | undefined, reason: string, cause?: unknown): never {
  throw new KeyError('MALFORMED_KEY', `${where(file)}: ${reason}`, { ...(file === undefined ? {} : { where: file }), ...(cause === undefined ? {} : { cause }) });
}

function badPassphrase(file: string | undefined): never {
  throw new KeyStoreError('BAD_PASSPHRASE', `${where(file)}: passphrase incorrect, the key could not be decrypted`, file === undefined ? {} : { where: file });
}

function toText(pem: string | Uint8Array): string {
  return typeof pem === 'string' ? pem : Buffer.from(pem.buffer, pem.byteOffset, pem.byteLength).toString('latin1');
}

function header(block: PemBlock, key: string): string {
  let value = '';
  for (const [k, v] of block.headers) if (k === key) value = v;
  return value;
}

/** The first PEM block of a key file. Throws MALFORMED_KEY when there is none or it is damaged. */
export function firstPemBlock(pem: string | Uint8Array, file?: string): PemBlock {
  let blocks: PemBlock[];
  try {
    blocks = decodePem(toText(pem));
  } catch (err) {
    malformed(file, err instanceof Error ? err.message : String(err), err);
  }
  const block = blocks[0];
  if (!block) malformed(file, 'PEM block is empty (no PEM data found)');
  return block;
}

/**
 * Type, role and gun of a key file, without decrypting it. Throws MALFORMED_KEY for a file without a PEM
 * block and UNSUPPORTED_KEY_TYPE for a block that is not a private key ("unknown key format" in Notary).
 */
export function readKeyFileInfo(pem: string | Uint8Array, file?: string): KeyFileInfo {
  const block = firstPemBlock(pem, file);
  const legacy = (LEGACY_TYPES as readonly string[]).includes(block.type);
  if (!legacy && !(PKCS8_TYPES as readonly string[]).includes(block.type)) {
    throw new KeyError('UNSUPPORTED_KEY_TYPE', `${where(file)}: unknown key format "${block.type}"`, file === undefined ? {} : { where: file });
  }
  const encrypted = block.type === 'ENCRYPTED PRIVATE KEY' || (legacy && block.headers.some(([k]) => k === 'DEK-Info'));
  return { type: block.type, role: header(block, 'role'), gun: header(block, 'gun'), encrypted, legacy, block };
}

// ------------------------------------------------------------------------------------------------------------
// PBES2 (PKCS#5 v2) as Notary writes and reads it

function pbkdf2Sha1(passphrase: string, salt: Uint8Array, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(passphrase, 'utf8'), salt, iterations, 32, 'sha1');
}

/** PKCS#7 unpadding; undefined when the padding is not valid. */
function unpad(data: Buffer, blockSize: number): Buffer | undefined {
  if (data.length === 0 || data.length % blockSize !== 0) return undefined;
  const n = data[data.length - 1]!;
  if (n < 1 || n > blockSize) return undefined;
  for (let i = data.length - n; i < data.length; i++) if (data[i] !== n) return undefined;
  return data.subarray(0, data.length - n);
}

function cbcDecryptRaw(cipher: string, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const d = createDecipheriv(cipher, key, iv);
  d.setAutoPadding(false);
  return Buffer.concat([d.update(data), d.final()]);
}

/**
 * Encrypts a PrivateKeyInfo DER exactly as Notary 0.7 does and returns the EncryptedPrivateKeyInfo DER.
 * `salt` (8 bytes) and `iv` (16 bytes) are random unless given (tests).
 */
export function encryptPkcs8(privateKeyInfo: Uint8Array, passphrase: string, options: { salt?: Uint8Array; iv?: Uint8Array } = {}): Uint8Array {
  const salt = options.salt ?? new Uint8Array(randomBytes(SALT_BYTES));
  const iv = options.iv ?? new Uint8Array(randomBytes(IV_BYTES));
  if (salt.length !== SALT_BYTES || iv.length !== IV_BYTES) throw new KeyError('MALFORMED_KEY', 'PBES2 salt must be 8 bytes and IV 16 bytes');
  const key = pbkdf2Sha1(passphrase, salt, PBKDF2_ITERATIONS);
  const c = createCipheriv('aes-256-cbc', key, iv); // PKCS#7 padding, 1..16 bytes, as Go pads
  const encrypted = new Uint8Array(Buffer.concat([c.update(privateKeyInfo), c.final()]));
  return derSequence(
    derSequence(
      derOid(PBES2_OID),
      derSequence(
        derSequence(derOid(PBKDF2_OID), derSequence(derOctetString(salt), derInteger(PBKDF2_ITERATIONS))),
        derSequence(derOid(AES256_CBC_OID), derOctetString(iv)),
      ),
    ),
    derOctetString(encrypted),
  );
}

interface Pbes2Params {
  salt: Uint8Array;
  iterations: number;
  prf: string | undefined;
  iv: Uint8Array;
  data: Uint8Array;
}

function parseEncryptedPrivateKeyInfo(der: Uint8Array, file: string | undefined): Pbes2Params {
  let alg: string;
  let parsed: Pbes2Params;
  try {
    // Go's asn1.Unmarshal ignores bytes after the outer element; so do we.
    const outer = new DerSequence(readTlv(der, 0), 'EncryptedPrivateKeyInfo');
    const algorithm = new DerSequence(outer.nextUniversal(Tag.SEQUENCE, 'encryptionAlgorithm'));
    alg = readOid(algorithm.nextUniversal(Tag.OID, 'algorithm'));
    if (alg !== PBES2_OID) {
      throw new KeyError('UNSUPPORTED_ALGORITHM', `${where(file)}: pkcs8: only PBES2 supported (found ${alg})`, file === undefined ? {} : { where: file });
    }
    const params = new DerSequence(algorithm.nextUniversal(Tag.SEQUENCE, 'PBES2-params'));
    const kdf = new DerSequence(params.nextUniversal(Tag.SEQUENCE, 'keyDerivationFunc'));
    const kdfOid = readOid(kdf.nextUniversal(Tag.OID, 'keyDerivationFunc.algorithm'));
    if (kdfOid !== PBKDF2_OID) {
      throw new KeyError('UNSUPPORTED_ALGORITHM', `${where(file)}: pkcs8: only PBKDF2 supported (found ${kdfOid})`, file === undefined ? {} : { where: file });
    }
    const kp = new DerSequence(kdf.nextUniversal(Tag.SEQUENCE, 'PBKDF2-params'));
    const salt = readOctetString(kp.nextUniversal(Tag.OCTET_STRING, 'salt'));
    const iterations = readSmallInt(kp.nextUniversal(Tag.INTEGER, 'iterationCount'), 'iterationCount');
    // Notary ignores the rest (keyLength, prf); we only look at the PRF to explain a failure.
    let prf: string | undefined;
    while (!kp.done) {
      const n = kp.next();
      if (n.tag === Tag.SEQUENCE && n.constructed) {
        try {
          prf = readOid(new DerSequence(n).nextUniversal(Tag.OID, 'prf'));
        } catch {
          /* ignored, as Notary ignores it */
        }
      }
    }
    const enc = new DerSequence(params.nextUniversal(Tag.SEQUENCE, 'encryptionScheme'));
    const encOid = readOid(enc.nextUniversal(Tag.OID, 'encryptionScheme.algorithm'));
    if (encOid !== AES256_CBC_OID) {
      throw new KeyError('UNSUPPORTED_ALGORITHM', `${where(file)}: pkcs8: only AES-256-CBC supported (found ${encOid})`, file === undefined ? {} : { where: file });
    }
    const iv = readOctetString(enc.nextUniversal(Tag.OCTET_STRING, 'iv'));
    const data = readOctetString(outer.nextUniversal(Tag.OCTET_STRING, 'encryptedData'));
    parsed = { salt, iterations, prf, iv, data };
  } catch (err) {
    if (err instanceof NotaryError && err.code !== 'MALFORMED_KEY') throw err;
    malformed(file, `invalid PKCS#8 EncryptedPrivateKeyInfo: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  const { iterations, iv, data } = parsed;
  if (iterations < 1 || iterations > MAX_ITERATIONS) malformed(file, `PBKDF2 iteration count ${iterations} out of range`);
  if (iv.length !== IV_BYTES) malformed(file, `AES-256-CBC IV must be 16 bytes, not ${iv.length}`);
  if (data.length === 0 || data.length % 16 !== 0) malformed(file, `encrypted data length ${data.length} is not a multiple of the AES block size`);
  return parsed;
}

/** The first TLV of `plain` when it looks like a PrivateKeyInfo (SEQUENCE { INTEGER, SEQUENCE { OID … }, OCTET STRING … }). */
function privateKeyInfoPrefix(plain: Uint8Array): Uint8Array | undefined {
  try {
    const node = readTlv(plain, 0);
    const seq = new DerSequence(node);
    readSmallInt(seq.nextUniversal(Tag.INTEGER));
    const alg = new DerSequence(seq.nextUniversal(Tag.SEQUENCE));
    readOid(alg.nextUniversal(Tag.OID));
    seq.nextUniversal(Tag.OCTET_STRING);
    return node.raw;
  } catch {
    return undefined;
  }
}

/**
 * Decrypts an EncryptedPrivateKeyInfo DER and returns the PrivateKeyInfo DER inside. BAD_PASSPHRASE when the
 * passphrase does not produce valid padding and a PrivateKeyInfo structure.
 */
export function decryptPkcs8(der: Uint8Array, passphrase: string, file?: string): Uint8Array {
  const p = parseEncryptedPrivateKeyInfo(der, file);
  const key = pbkdf2Sha1(passphrase, p.salt, p.iterations);
  const plain = unpad(cbcDecryptRaw('aes-256-cbc', key, p.iv, p.data), 16);
  const info = plain && privateKeyInfoPrefix(plain);
  if (!info) {
    if (p.prf !== undefined && p.prf !== HMAC_SHA1_OID) {
      const name = PRF_NAMES[p.prf] ?? p.prf;
      throw new KeyError(
        'UNSUPPORTED_ALGORITHM',
        `${where(file)}: PBKDF2 PRF ${name} is not supported: Notary always uses hmacWithSHA1 (re-encrypt with \`openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA1\`)`,
        file === undefined ? {} : { where: file },
      );
    }
    badPassphrase(file);
  }
  return info.slice();
}

// ------------------------------------------------------------------------------------------------------------
// Legacy OpenSSL PEM encryption (Proc-Type / DEK-Info)

const LEGACY_CIPHERS: Record<string, { node: string; keyLength: number; blockSize: number }> = {
  'DES-CBC': { node: 'des-cbc', keyLength: 8, blockSize: 8 },
  'DES-EDE3-CBC': { node: 'des-ede3-cbc', keyLength: 24, blockSize: 8 },
  'AES-128-CBC': { node: 'aes-128-cbc', keyLength: 16, blockSize: 16 },
  'AES-192-CBC': { node: 'aes-192-cbc', keyLength: 24, blockSize: 16 },
  'AES-256-CBC': { node: 'aes-256-cbc', keyLength: 32, blockSize: 16 },
};

/** OpenSSL EVP_BytesToKey with MD5, one iteration. */
function evpBytesToKey(passphrase: string, salt: Uint8Array, keyLength: number): Buffer {
  const pass = Buffer.from(passphrase, 'utf8');
  const out: Buffer[] = [];
  let have = 0;
  let prev = Buffer.alloc(0);
  while (have < keyLength) {
    prev = createHash('md5').update(prev).update(pass).update(salt).digest();
    out.push(prev);
    have += prev.length;
  }
  return Buffer.concat(out).subarray(0, keyLength);
}

function decryptLegacyBlock(block: PemBlock, passphrase: string, file: string | undefined): Uint8Array {
  const dek = header(block, 'DEK-Info');
  const comma = dek.indexOf(',');
  if (comma < 0) malformed(file, 'malformed DEK-Info header');
  const name = dek.slice(0, comma);
  const cipher = LEGACY_CIPHERS[name];
  if (!cipher) throw new KeyError('UNSUPPORTED_ALGORITHM', `${where(file)}: unknown PEM encryption ${JSON.stringify(name)}`, file === undefined ? {} : { where: file });
  const hex = dek.slice(comma + 1);
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length !== cipher.blockSize * 2) malformed(file, 'malformed DEK-Info IV');
  const iv = fromHex(hex.toLowerCase());
  if (block.bytes.length === 0 || block.bytes.length % cipher.blockSize !== 0) malformed(file, 'encrypted PEM data is not a whole number of cipher blocks');
  const key = evpBytesToKey(passphrase, iv.subarray(0, 8), cipher.keyLength);
  let raw: Buffer;
  try {
    raw = cbcDecryptRaw(cipher.node, key, iv, block.bytes);
  } catch (err) {
    throw new KeyError('UNSUPPORTED_ALGORITHM', `${where(file)}: ${name} is not available in this Node.js build`, { cause: err, ...(file === undefined ? {} : { where: file }) });
  }
  const plain = unpad(raw, cipher.blockSize);
  if (!plain) badPassphrase(file);
  return new Uint8Array(plain);
}

// ------------------------------------------------------------------------------------------------------------
// Key consistency (what makes a decryption with the wrong passphrase impossible to accept)

function view(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

const ECDH_CURVE: Record<string, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };
const ED25519_PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

/** Throws MALFORMED_KEY unless the public half stored with the key belongs to the private half. */
export function checkKeyConsistency(key: PrivateKeyMaterial, file?: string): void {
  switch (key.kind) {
    case 'ecdsa': {
      const ecdh = createECDH(ECDH_CURVE[key.curve]!);
      ecdh.setPrivateKey(view(key.d));
      if (!bytesEqual(new Uint8Array(ecdh.getPublicKey()), key.point)) malformed(file, 'EC public key does not match the private key');
      return;
    }
    case 'ed25519': {
      const priv = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, view(key.seed)]), format: 'der', type: 'pkcs8' });
      const spki = new Uint8Array(createPublicKey(priv).export({ format: 'der', type: 'spki' }));
      if (!bytesEqual(spki.subarray(spki.length - 32), key.publicKey)) malformed(file, 'ed25519 public key does not match the private key');
      return;
    }
    case 'rsa':
      return; // decodePkcs1RsaPrivateKey already checked n = p·q
  }
}

function decodeChecked(decode: () => PrivateKeyMaterial, file: string | undefined, wrongPassphraseIfInvalid: boolean): PrivateKeyMaterial {
  let key: PrivateKeyMaterial;
  try {
    key = decode();
    checkKeyConsistency(key, file);
  } catch (err) {
    if (wrongPassphraseIfInvalid && err instanceof KeyError && err.code === 'MALFORMED_KEY') badPassphrase(file);
    if (err instanceof KeyError && err.where === undefined && file !== undefined) {
      throw new KeyError(err.code, `${where(file)}: ${err.message}`, { where: file, cause: err });
    }
    throw err;
  }
  return key;
}

function decodeLegacyBody(type: string, der: Uint8Array): PrivateKeyMaterial {
  switch (type) {
    case 'EC PRIVATE KEY':
      return decodeSec1EcPrivateKey(readTlv(der, 0).raw);
    case 'RSA PRIVATE KEY':
      return decodePkcs1RsaPrivateKey(readTlv(der, 0).raw);
    default:
      return decodeEd25519Blob(der);
  }
}

/**
 * Decodes a Notary key file into key material. `passphrase` is ignored for unencrypted files. Throws
 * MALFORMED_KEY (damaged file), UNSUPPORTED_KEY_TYPE / UNSUPPORTED_ALGORITHM, or BAD_PASSPHRASE.
 */
export function decodeKeyFile(pem: string | Uint8Array, passphrase: string, file?: string): PrivateKeyMaterial {
  const info = readKeyFileInfo(pem, file);
  const { block } = info;
  if (info.legacy) {
    if (!info.encrypted) return decodeChecked(() => decodeLegacyBody(block.type, block.bytes), file, false);
    if (passphrase === '') badPassphrase(file);
    const plain = decryptLegacyBlock(block, passphrase, file);
    // Valid padding with the wrong passphrase happens; garbage that parses as a consistent key does not.
    return decodeChecked(() => decodeLegacyBody(block.type, plain), file, true);
  }
  if (block.type === 'PRIVATE KEY') return decodeChecked(() => decodePkcs8(readTlv(block.bytes, 0).raw), file, false);
  if (passphrase === '') badPassphrase(file);
  const inner = decryptPkcs8(block.bytes, passphrase, file);
  // The PrivateKeyInfo structure parsed, so the passphrase was right: inner problems are the file's.
  return decodeChecked(() => decodePkcs8(inner), file, false);
}

/** Is this key file protected by a passphrase? (Go's GetKey tries the empty passphrase first.) */
export function isEncryptedKeyFile(pem: string | Uint8Array, file?: string): boolean {
  return readKeyFileInfo(pem, file).encrypted;
}

export interface EncodeKeyFileOptions {
  /** `role` header (omitted when empty). */
  readonly role?: string;
  /** `gun` header (omitted when empty). The key store decides when a gun is kept (see keystore.ts). */
  readonly gun?: string;
  /** Empty: an unencrypted `PRIVATE KEY` block, as Notary writes then. */
  readonly passphrase: string;
  /** Extra headers (e.g. `path` for export). */
  readonly headers?: Record<string, string>;
  readonly salt?: Uint8Array;
  readonly iv?: Uint8Array;
}

/** A key file exactly as Notary 0.7 writes it (Go's ConvertPrivateKeyToPKCS8 + pem.Encode). */
export function encodeKeyFile(key: PrivateKeyMaterial, options: EncodeKeyFileOptions): string {
  const der = encodePkcs8(key);
  const headers: Record<string, string> = { ...options.headers };
  if (options.role) headers['role'] = options.role;
  if (options.gun) headers['gun'] = options.gun;
  if (options.passphrase === '') return encodePem('PRIVATE KEY', der, headers);
  const opts = { ...(options.salt ? { salt: options.salt } : {}), ...(options.iv ? { iv: options.iv } : {}) };
  return encodePem('ENCRYPTED PRIVATE KEY', encryptPkcs8(der, options.passphrase, opts), headers);
}

/** Re-encodes a PEM block with changed headers, keeping its bytes (migration, export, import). */
export function reencodeBlock(block: PemBlock, set: Record<string, string | undefined>): string {
  const map = new Map<string, string>();
  for (const [k, v] of block.headers) map.set(k, v);
  for (const [k, v] of Object.entries(set)) {
    if (v === undefined) map.delete(k);
    else map.set(k, v);
  }
  return encodePem(block.type, block.bytes, map);
}

/** Notary's ID of a private key: the TUF ID of its bare public key (ecdsa/rsa SPKI, ed25519 raw). */
export function privateKeyId(key: PrivateKeyMaterial, crypto: CryptoBackend = nodeCryptoBackend): string {
  return tufKeyId(publicKeyOf(key), crypto);
}

/** The `PUBLIC KEY` PEM (with a `role` header) that `notary key generate -o` writes next to the key. */
export function encodePublicKeyPem(key: PrivateKeyMaterial, role: string): string {
  const pub = publicKeyOf(key);
  return encodePem('PUBLIC KEY', Uint8Array.from(Buffer.from(pub.keyval.public, 'base64')), { role });
}

