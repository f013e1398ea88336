/**
 * Key file encryption/decryption against files the real Notary wrote (committed vectors, Notary's legacy
 * fixtures) and files OpenSSL writes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/core/bytes.js';
import { DerSequence, Tag, readOctetString, readTlv } from '../src/core/der.js';
import { KeyError, KeyStoreError, NotaryError } from '../src/core/errors.js';
import { decodePem } from '../src/core/pem.js';
import { encodePkcs8, encodeSec1EcPrivateKey } from '../src/core/pkcs8.js';
import { nodeCryptoBackend } from '../src/crypto/node.js';
import {
  decodeKeyFile,
  decryptPkcs8,
  encodeKeyFile,
  encryptPkcs8,
  privateKeyId,
  readKeyFileInfo,
} from '../src/node/keyfile.js';
import { notaryFixturesDir, VECTORS_DIR } from './support/fixtures.js';

function aliasOf(role: string): 'root' | 'targets' | 'snapshot' | 'delegation' {
  return role === 'root' || role === 'targets' || role === 'snapshot' ? role : 'delegation';
}

interface GoKeyFile {
  set: string;
  file: string;
  path: string;
  text: string;
  passphrase: string;
}

function goKeyFiles(): GoKeyFile[] {
  const out: GoKeyFile[] = [];
  for (const set of readdirSync(VECTORS_DIR)) {
    let manifest: any;
    try {
      manifest = JSON.parse(readFileSync(join(VECTORS_DIR, set, 'manifest.json'), 'utf8'));
    } catch {
      continue;
    }
    const dir = join(VECTORS_DIR, set, 'trust_dir', 'private');
    for (const file of readdirSync(dir)) {
      const path = join(dir, file);
      const text = readFileSync(path, 'latin1');
      const role = readKeyFileInfo(text, path).role;
      out.push({ set, file, path, text, passphrase: manifest.passphrases[aliasOf(role)] });
    }
  }
  return out;
}

function expectCode(fn: () => unknown, code: string, mentions?: string): NotaryError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NotaryError);
    expect((err as NotaryError).code).toBe(code);
    if (mentions) expect((err as Error).message).toContain(mentions);
    return err as NotaryError;
  }
  throw new Error(`expected ${code}`);
}

/** The PBES2 salt and IV inside an ENCRYPTED PRIVATE KEY block. */
function saltAndIv(der: Uint8Array): { salt: Uint8Array; iv: Uint8Array } {
  const outer = new DerSequence(readTlv(der));
  const alg = new DerSequence(outer.nextUniversal(Tag.SEQUENCE));
  alg.next();
  const params = new DerSequence(alg.nextUniversal(Tag.SEQUENCE));
  const kdf = new DerSequence(params.nextUniversal(Tag.SEQUENCE));
  kdf.next();
  const salt = readOctetString(new DerSequence(kdf.nextUniversal(Tag.SEQUENCE)).nextUniversal(Tag.OCTET_STRING));
  const enc = new DerSequence(params.nextUniversal(Tag.SEQUENCE));
  enc.next();
  return { salt, iv: readOctetString(enc.nextUniversal(Tag.OCTET_STRING)) };
}

describe('files written by notary 0.7', () => {
  const files = goKeyFiles();

  it('has ECDSA and RSA keys of every role to test with', () => {
    expect(files.length).toBeGreaterThan(10);
    const roles = new Set(files.map((f) => readKeyFileInfo(f.text).role));
    for (const r of ['root', 'targets', 'snapshot', 'targets/releases']) expect(roles.has(r)).toBe(true);
    expect(files.some((f) => readKeyFileInfo(f.text).role === 'targets/rsa')).toBe(true);
  });

  for (const f of files) {
    it(`${f.set}/${f.file.slice(0, 12)}: decrypts, its ID is its file name, and re-encrypting with the same salt and IV gives Go's exact bytes`, () => {
      const info = readKeyFileInfo(f.text, f.path);
      expect(info.type).toBe('ENCRYPTED PRIVATE KEY');
      expect(info.encrypted).toBe(true);
      const key = decodeKeyFile(f.text, f.passphrase, f.path);
      expect(privateKeyId(key)).toBe(f.file.replace(/\.key$/, ''));
      const block = decodePem(f.text)[0]!;
      const again = encodeKeyFile(key, { role: info.role, gun: info.gun, passphrase: f.passphrase, ...saltAndIv(block.bytes) });
      expect(again).toBe(f.text);
    });
  }

  it('a wrong passphrase is BAD_PASSPHRASE naming the file, for many passphrases (padding that passes by chance is caught)', () => {
    const f = files.find((x) => readKeyFileInfo(x.text).role === 'targets')!;
    for (let i = 0; i < 600; i++) {
      const err = expectCode(() => decodeKeyFile(f.text, `wrong-${i}`, f.path), 'BAD_PASSPHRASE', f.path);
      expect(err).toBeInstanceOf(KeyStoreError);
      expect(err.message).not.toContain(`wrong-${i}`);
    }
  });

  it('an encrypted file without a passphrase is BAD_PASSPHRASE', () => {
    const f = files[0]!;
    expectCode(() => decodeKeyFile(f.text, '', f.path), 'BAD_PASSPHRASE', f.path);
  });
});

describe('legacy OpenSSL-encrypted keys (Notary fixtures)', () => {
  const base = notaryFixturesDir();
  const cases = [
    { file: 'notary0.1/private/root_keys/d0c623c8e70c70d42a8a8125c44a8598588b3f6e31d5c21a83cbc338dfde8a68_root.key', pass: 'randompass', kind: 'ecdsa' },
    { file: 'notary0.1/private/tuf_keys/docker.com/notary0.1/samplerepo/7fc757801b9bab4ec9e35bfe7a6b61668ff6f4c81b5632af19e6c728ab799599_targets.key', pass: 'randompass', kind: 'ecdsa' },
    { file: 'notary0.3/private/tuf_keys/fa842f66cac2dc898677a8660789dcff0e3b0b93b73f8952491f6493199936d3.key', pass: 'password', kind: 'rsa' },
    { file: 'notary0.3/private/root_keys/f4eaf871a74aa3b3a0ff95cef2455a1e4d461639f5625418e76756fc5c948690.key', pass: 'password', kind: 'ecdsa' },
  ];
  for (const c of cases) {
    it(`${c.file.split('/').pop()!.slice(0, 12)}: decrypts (EVP_BytesToKey MD5 + AES-256-CBC) to the key named by the file`, () => {
      const text = readFileSync(join(base, c.file), 'latin1');
      const info = readKeyFileInfo(text);
      expect(info.legacy).toBe(true);
      expect(info.encrypted).toBe(true);
      const key = decodeKeyFile(text, c.pass, c.file);
      expect(key.kind).toBe(c.kind);
      expect(privateKeyId(key)).toBe(c.file.split('/').pop()!.replace(/(_[a-z]+)?\.key$/, ''));
      for (let i = 0; i < 300; i++) expectCode(() => decodeKeyFile(text, `nope${i}`, c.file), 'BAD_PASSPHRASE', c.file);
    });
  }
});

describe('OpenSSL-written PKCS#8', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyfile-'));
  const ec = join(dir, 'ec.pem');
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', ec]);
  const pkcs8 = (...extra: string[]) => execFileSync('openssl', ['pkcs8', '-topk8', '-in', ec, ...extra], { encoding: 'latin1' });

  it('unencrypted EC PRIVATE KEY and PRIVATE KEY decode to the same key', () => {
    const a = decodeKeyFile(readFileSync(ec, 'latin1'), '', 'ec.pem');
    const b = decodeKeyFile(pkcs8('-nocrypt'), '', 'ec8.pem');
    expect(privateKeyId(a)).toBe(privateKeyId(b));
  });

  it('PBES2 with hmacWithSHA1 (what Notary accepts) decrypts; OpenSSL 3 default hmacWithSHA256 is refused as Notary refuses it', () => {
    const sha1 = pkcs8('-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA1', '-passout', 'pass:secretpass');
    const plain = decodeKeyFile(readFileSync(ec, 'latin1'), '');
    expect(privateKeyId(decodeKeyFile(sha1, 'secretpass', 'sha1.pem'))).toBe(privateKeyId(plain));
    const sha256 = pkcs8('-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA256', '-passout', 'pass:secretpass');
    expectCode(() => decodeKeyFile(sha256, 'secretpass', 'sha256.pem'), 'UNSUPPORTED_ALGORITHM', 'hmacWithSHA256');
  });

  it('our encrypted files decrypt with openssl (PBES2/PBKDF2-SHA1/AES-256-CBC as declared)', () => {
    const key = decodeKeyFile(readFileSync(ec, 'latin1'), '');
    const ours = join(dir, 'ours.pem');
    // OpenSSL refuses the role header (notary-facts §6.2), so hand it the block without headers.
    const block = decodePem(encodeKeyFile(key, { role: 'targets', gun: 'a/b', passphrase: 'pass-word' }))[0]!;
    writeFileSync(ours, `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${Buffer.from(block.bytes).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ENCRYPTED PRIVATE KEY-----\n`);
    const out = execFileSync('openssl', ['pkcs8', '-in', ours, '-passin', 'pass:pass-word', '-outform', 'DER'], { encoding: 'buffer' });
    // openssl prints the key as traditional SEC1 DER
    if (key.kind !== 'ecdsa') throw new Error('expected ecdsa');
    expect(toHex(new Uint8Array(out))).toBe(toHex(encodeSec1EcPrivateKey(key)));
  });
});

describe('damaged and unsupported files', () => {
  const f = goKeyFiles()[0]!;
  const lines = f.text.split('\n');

  it('truncated (no END line) is MALFORMED_KEY naming the file', () => {
    expectCode(() => decodeKeyFile(f.text.slice(0, 200), f.passphrase, 'trunc.key'), 'MALFORMED_KEY', 'trunc.key');
  });

  it('a base64 line removed (outer DER cut short) is MALFORMED_KEY', () => {
    const cut = [...lines.slice(0, 4), ...lines.slice(5)].join('\n');
    expectCode(() => decodeKeyFile(cut, f.passphrase, 'cut.key'), 'MALFORMED_KEY', 'cut.key');
  });

  it('not PEM at all is MALFORMED_KEY; a certificate is UNSUPPORTED_KEY_TYPE', () => {
    expectCode(() => decodeKeyFile('garbage\n', 'x', 'g.key'), 'MALFORMED_KEY', 'g.key');
    expectCode(() => decodeKeyFile('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', 'x', 'c.key'), 'UNSUPPORTED_KEY_TYPE', 'c.key');
  });

  it('a key whose stored public point does not match d is MALFORMED_KEY (unencrypted) / BAD_PASSPHRASE never', () => {
    const key = decodeKeyFile(f.text, f.passphrase);
    if (key.kind !== 'ecdsa') throw new Error('expected ecdsa');
    const other = nodeCryptoBackend.generateKey('ecdsa');
    if (other.kind !== 'ecdsa') throw new Error('expected ecdsa');
    const forged = encodeKeyFile({ ...key, point: other.point }, { passphrase: '' });
    expectCode(() => decodeKeyFile(forged, '', 'forged.key'), 'MALFORMED_KEY', 'forged.key');
    const forgedEnc = encodeKeyFile({ ...key, point: other.point }, { passphrase: 'p' });
    expectCode(() => decodeKeyFile(forgedEnc, 'p', 'forged.key'), 'MALFORMED_KEY', 'forged.key');
  });

  it('Notary Ed25519 layout round-trips; RFC 8410 Ed25519 is refused as Notary refuses it', () => {
    const ed = nodeCryptoBackend.generateKey('ed25519');
    const text = encodeKeyFile(ed, { role: 'targets/x', passphrase: 'edpass12' });
    expect(privateKeyId(decodeKeyFile(text, 'edpass12'))).toBe(privateKeyId(ed));
    const rfc = execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519'], { encoding: 'latin1' });
    expectCode(() => decodeKeyFile(rfc, '', 'rfc.key'), 'UNSUPPORTED_KEY_TYPE');
  });

  it('PBES2 structure: only AES-256-CBC, and decryptPkcs8 returns exactly the PrivateKeyInfo', () => {
    const key = nodeCryptoBackend.generateKey('ecdsa');
    const der = encodePkcs8(key);
    expect(toHex(decryptPkcs8(encryptPkcs8(der, 'pw'), 'pw'))).toBe(toHex(der));
    const err = expectCode(() => decryptPkcs8(encryptPkcs8(der, 'pw'), 'pX', 'x.key'), 'BAD_PASSPHRASE', 'x.key');
    expect(err).not.toBeInstanceOf(KeyError);
  });
});
