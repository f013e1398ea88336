/**
 * Issue 9, defects 3 and 4: hostile input must cost bounded work and end in a typed refusal (or the right
 * answer), never a loop, an exponential walk, or an untyped crash. Each case failed before the fix.
 */
import { generateKeyPairSync } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fileMetaOf,
  newSnapshotSigned,
  newTargetsSigned,
  newTimestampSigned,
  setDelegation,
  setTarget,
  signMetadata,
  softwareSigner,
} from '../src/core/build.js';
import { fromBase64, utf8Encode } from '../src/core/bytes.js';
import { canonicalize, canonicalizeToBytes } from '../src/core/canonical.js';
import type { CryptoBackend } from '../src/core/crypto.js';
import { NotaryError } from '../src/core/errors.js';
import { generateRepositoryKeys, generateRootKey, generateSigningKey, initRepositoryMetadata, type RepositoryKeys, type SigningKey } from '../src/core/init.js';
import { loadCollection, MAX_ROOT_WALK } from '../src/core/load.js';
import { Metadata, serializeEnvelope, type RootSigned, type TargetsSigned } from '../src/core/metadata.js';
import { decodePkcs1RsaPrivateKey, encodePkcs1RsaPrivateKey } from '../src/core/pkcs8.js';
import { DEFAULT_EXPIRY_DAYS, expiresAfterDays } from '../src/core/time.js';
import { MAX_TRIES_PER_KEY } from '../src/core/verify.js';
import { nodeCryptoBackend as crypto } from '../src/crypto/node.js';
import { FileMetadataCache, MemoryMetadataCache } from '../src/node/cache.js';
import { decodeKeyFile } from '../src/node/keyfile.js';
import { TrustedRepository, type MetadataRemote } from '../src/repository/reader.js';
import { BACKENDS } from './support/backends.js';
import { runOurs } from './support/cli.js';
import { tempDir } from './support/go-repo.js';

const gun = 'example.com/hostile';
const now = new Date('2026-06-01T12:00:00Z');
const clock = () => now;
type Files = Map<string, Uint8Array>;

let keys: RepositoryKeys;
let rootV1: Uint8Array;

beforeAll(async () => {
  keys = generateRepositoryKeys(crypto, gun, now);
  rootV1 = (await initRepositoryMetadata(keys, crypto, now)).root.bytes!;
});

async function sign(type: 'Root' | 'Targets' | 'Snapshot' | 'Timestamp', signed: unknown, role: string, signers: SigningKey[] | { signer: NonNullable<RepositoryKeys['timestamp']['signer']> }[]): Promise<Uint8Array> {
  return (await signMetadata(type as 'Targets', signed as TargetsSigned, role, signers.map((k) => k.signer))).bytes!;
}

/** Snapshot and timestamp over `files` (root, targets, delegations). */
async function seal(files: Files): Promise<Files> {
  const listed = new Map([...files].filter(([r]) => r !== 'snapshot' && r !== 'timestamp' && !/^\d+\.root$/.test(r)));
  const snapshot = await sign('Snapshot', newSnapshotSigned(listed, now, crypto), 'snapshot', [keys.snapshot]);
  const timestamp = await sign('Timestamp', newTimestampSigned(snapshot, now, crypto), 'timestamp', [{ signer: keys.timestamp.signer! }]);
  return new Map([...files, ['snapshot', snapshot], ['timestamp', timestamp]]);
}

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<NotaryError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(NotaryError);
    return err as NotaryError;
  }
  throw new Error('expected a refusal');
}

/** A crypto backend that counts hashing and verification, to show how much work an input costs. */
function counting(base: CryptoBackend): { backend: CryptoBackend; counts: { sha256: number; verify: number } } {
  const counts = { sha256: 0, verify: 0 };
  const backend: CryptoBackend = {
    ...base,
    sha256: (b) => (counts.sha256++, base.sha256(b)),
    verify: (...a) => (counts.verify++, base.verify(...a)),
  };
  return { backend, counts };
}

describe('root walk (defect 3)', () => {
  /** A root for the GUN signed only by a key the client never trusted, claiming `version`. */
  async function selfMadeRoot(version: number): Promise<Uint8Array> {
    const stranger = generateRootKey(crypto, gun, now);
    const signed = structuredClone(Metadata.fromBytes(rootV1, 'root').signed) as RootSigned;
    signed.keys![stranger.keyId] = stranger.publicKey;
    signed.roles!['root'] = { keyids: [stranger.keyId], threshold: 1 };
    signed.version = version;
    return sign('Root', signed, 'root', [stranger]);
  }

  it('loadCollection refuses a root claiming version 2^53-1 without walking (LIMIT_EXCEEDED)', async () => {
    const latest = await selfMadeRoot(Number.MAX_SAFE_INTEGER);
    let fetches = 0;
    const source = (name: string) => {
      if (name === 'root') return latest;
      if (/^\d+\.root$/.test(name)) {
        if (++fetches > 2000) throw new Error('walked without bound');
        return rootV1; // the trusted root for every N.root.json
      }
      return undefined;
    };
    const err = await refusal(loadCollection(source, { gun, crypto, clock, trustedRoot: rootV1 }));
    expect(err.code).toBe('LIMIT_EXCEEDED');
    expect(fetches).toBe(0);
  });

  it('N.root.json must be version N exactly (BAD_VERSION)', async () => {
    const latest = await selfMadeRoot(MAX_ROOT_WALK);
    let fetches = 0;
    const source = (name: string) => (name === 'root' ? latest : /^\d+\.root$/.test(name) ? (fetches++, rootV1) : undefined);
    const err = await refusal(loadCollection(source, { gun, crypto, clock, trustedRoot: rootV1 }));
    expect(err.code).toBe('BAD_VERSION');
    expect(fetches).toBe(1);
  });

  it('the reader, with a cached root and a garbage timestamp, stops (LIMIT_EXCEEDED)', async () => {
    const latest = await selfMadeRoot(Number.MAX_SAFE_INTEGER);
    let requests = 0;
    const count = () => {
      if (++requests > 2000) throw new Error('fetching without bound');
    };
    const remote: MetadataRemote = {
      host: 'hostile',
      getTimestamp: async () => (count(), utf8Encode('garbage')),
      getRoot: async () => (count(), latest),
      getRootVersion: async () => (count(), rootV1),
      getRoleByChecksum: async () => (count(), utf8Encode('garbage')),
      getRole: async () => (count(), utf8Encode('garbage')),
    };
    const cache = new MemoryMetadataCache();
    await cache.set('root', rootV1);
    const err = await refusal(TrustedRepository.open({ gun, remote, cache, crypto, clock, log: { warn: () => {}, debug: () => {} } }));
    expect(err.code).toBe('LIMIT_EXCEEDED');
    expect(requests).toBeLessThan(10);
  });
});

describe('delegation walk (defect 3)', () => {
  it('a role listed twice in delegations.roles is malformed; loadCollection refuses it', async () => {
    const d = generateSigningKey(crypto);
    const t = newTargetsSigned(now, 2);
    setDelegation(t, 'targets', { name: 'targets/a', keys: [d.publicKey], paths: [''] }, crypto);
    t.delegations!.roles!.push(structuredClone(t.delegations!.roles![0]!), structuredClone(t.delegations!.roles![0]!));
    const a = newTargetsSigned(now, 2);
    setTarget(a, 'x', fileMetaOf(utf8Encode('x'), crypto));
    const files = await seal(
      new Map([
        ['root', rootV1],
        ['targets', await sign('Targets', t, 'targets', [keys.targets])],
        ['targets/a', await sign('Targets', a, 'targets/a', [d])],
      ]),
    );
    const err = await refusal(loadCollection((n) => files.get(n), { gun, crypto, clock }));
    expect(err.code).toBe('MALFORMED_METADATA');
    expect(err.message).toMatch(/targets\/a is listed more than once/);
  });

  it('a chain where each role lists its child k times is refused, not walked k^depth times', async () => {
    const d = generateSigningKey(crypto);
    const depth = 6;
    const k = 4;
    const names = ['targets'];
    for (let i = 1; i <= depth; i++) names.push(`${names[i - 1]}/r${i}`);
    const files: Files = new Map([['root', rootV1]]);
    let fetches = 0;
    for (let i = 0; i < names.length; i++) {
      const t = newTargetsSigned(now, 2);
      if (i + 1 < names.length) {
        setDelegation(t, names[i]!, { name: names[i + 1]!, keys: [d.publicKey], paths: [''] }, crypto);
        for (let j = 1; j < k; j++) t.delegations!.roles!.push(structuredClone(t.delegations!.roles![0]!));
      }
      files.set(names[i]!, await sign('Targets', t, names[i]!, i === 0 ? [keys.targets] : [d]));
    }
    const sealed = await seal(files);
    const err = await refusal(loadCollection((n) => (fetches++, sealed.get(n)), { gun, crypto, clock }));
    expect(err.code).toBe('MALFORMED_METADATA');
    expect(fetches).toBeLessThan(10);
  });
});

describe('duplicate key IDs and signatures (defect 3)', () => {
  it('a root listing one certificate key 20,000 times costs one parse and one key ID per key', async () => {
    const signed = structuredClone(Metadata.fromBytes(rootV1, 'root').signed) as RootSigned;
    const id = keys.root.keyId;
    signed.roles!['root'] = { keyids: Array.from({ length: 20000 }, () => id), threshold: 1 };
    signed.version = 2;
    const bytes = await sign('Root', signed, 'root', [keys.root]);
    const { backend, counts } = counting(crypto);
    const loaded = await loadCollection((n) => (n === 'root' ? bytes : undefined), { gun, crypto: backend, clock, trustedRoot: rootV1 }).catch((e: unknown) => e);
    // Fails later (no timestamp), but the root was admitted with bounded hashing.
    expect((loaded as NotaryError).code).toBe('NOT_FOUND');
    expect(counts.sha256).toBeLessThan(100);
  });

  it('a thousand bad signatures by the timestamp key are tried at most MAX_TRIES_PER_KEY times', async () => {
    const files = await seal(new Map([['root', rootV1], ['targets', await sign('Targets', newTargetsSigned(now), 'targets', [keys.targets])]]));
    const ts = Metadata.fromBytes(files.get('timestamp')!, 'timestamp');
    const good = ts.signatures[0]!;
    const bad = { ...good, sig: good.sig.slice(0, -4) + (good.sig.endsWith('AAA=') ? 'BBB=' : 'AAA=') };
    files.set('timestamp', serializeEnvelope(ts.signed, Array.from({ length: 1000 }, () => bad)));
    const { backend, counts } = counting(crypto);
    const err = await refusal(loadCollection((n) => files.get(n), { gun, crypto: backend, clock }));
    expect(err.code).toBe('THRESHOLD_NOT_MET');
    expect(counts.verify).toBeLessThanOrEqual(MAX_TRIES_PER_KEY + 2); // + the root's own signature checks
  });

  it("Notary's size caps hold on a library source (timestamp over 1 MiB: LENGTH_EXCEEDED)", async () => {
    const files = await seal(new Map([['root', rootV1], ['targets', await sign('Targets', newTargetsSigned(now), 'targets', [keys.targets])]]));
    const ts = files.get('timestamp')!;
    const big = new Uint8Array((1 << 20) + 1).fill(0x20);
    big.set(ts, 0);
    files.set('timestamp', big);
    expect((await refusal(loadCollection((n) => files.get(n), { gun, crypto, clock }))).code).toBe('LENGTH_EXCEEDED');
  });
});

describe('size caps on the cache path (defect 3)', () => {
  it('a cached file over its cap is refused before it is read (LENGTH_EXCEEDED)', async () => {
    const dir = tempDir();
    try {
      const cache = new FileMetadataCache(dir, gun);
      await cache.set('timestamp', utf8Encode('{}'));
      await cache.set('targets', utf8Encode('{}'));
      // Sparse files: the size is what counts, nothing is written.
      await fs.truncate(join(cache.dir, 'timestamp.json'), (1 << 20) + 1);
      await fs.truncate(join(cache.dir, 'targets.json'), (100 << 20) + 1);
      expect((await refusal(cache.get('timestamp'))).code).toBe('LENGTH_EXCEEDED');
      expect((await refusal(cache.get('targets'))).code).toBe('LENGTH_EXCEEDED');
      expect(await cache.get('snapshot')).toBeUndefined();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('keys named like Object.prototype members (defect 4)', () => {
  function withOwn<T extends object>(obj: T, key: string, value: unknown): T {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
    return obj;
  }

  it('a "__proto__" key listed by a role is validated (MALFORMED_METADATA), not a TypeError later', async () => {
    const signed = structuredClone(Metadata.fromBytes(rootV1, 'root').signed) as RootSigned;
    withOwn(signed.keys!, '__proto__', {});
    signed.roles!['timestamp']!.keyids!.push('__proto__');
    const text = JSON.stringify({ signed, signatures: [] });
    expect(text).toContain('"__proto__":{}');
    const err = await refusal(() => Metadata.fromBytes(utf8Encode(text), 'root'));
    expect(err.code).toBe('MALFORMED_METADATA');
    expect(err.message).toMatch(/__proto__/);
  });

  it('delegations.keys.__proto__ = {} is refused at parse time; toBytes never sees it', async () => {
    const t = newTargetsSigned(now);
    t.delegations = withOwn({ keys: {}, roles: [] }, 'keys', withOwn({}, '__proto__', {})) as TargetsSigned['delegations'];
    const text = JSON.stringify({ signed: t, signatures: [] });
    const err = await refusal(() => Metadata.fromBytes(utf8Encode(text), 'targets').toBytes());
    expect(err.code).toBe('MALFORMED_METADATA');
  });

  it('a key ID "constructor" with no own entry is a missing key, and a valid own "__proto__" key is an ordinary key', async () => {
    const signed = structuredClone(Metadata.fromBytes(rootV1, 'root').signed) as RootSigned;
    signed.roles!['timestamp']!.keyids = ['constructor'];
    const a = Metadata.fromBytes(await sign('Root', signed, 'root', [keys.root]), 'root');
    const err = await refusal(loadCollection((n) => (n === 'root' ? a.bytes : undefined), { gun, crypto, clock }));
    expect(err.code).toBe('MALFORMED_METADATA');
    expect(err.message).toMatch(/key ID constructor specified in timestamp without corresponding key/);

    const s2 = structuredClone(Metadata.fromBytes(rootV1, 'root').signed) as RootSigned;
    withOwn(s2.keys!, '__proto__', keys.timestamp.publicKey);
    s2.roles!['timestamp']!.keyids = ['__proto__'];
    const root2 = await sign('Root', s2, 'root', [keys.root]);
    const files = await seal(new Map([['root', root2], ['targets', await sign('Targets', newTargetsSigned(now), 'targets', [keys.targets])]]));
    // The key is real but listed under an ID that is not its own: the timestamp's signature (by its real
    // ID) matches no listed key, a typed refusal like any other.
    expect((await refusal(loadCollection((n) => files.get(n), { gun, crypto, clock }))).code).toBe('THRESHOLD_NOT_MET');
  });
});

describe('deep and non-finite JSON (defect 4)', () => {
  const deep = (n: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < n; i++) v = [v];
    return v;
  };

  it('canonicalizeToBytes and signMetadata refuse JSON nested 5,000 deep (NESTING_TOO_DEEP)', async () => {
    expect((await refusal(() => canonicalizeToBytes(deep(5000)))).code).toBe('NESTING_TOO_DEEP');
    const t = newTargetsSigned(now);
    setTarget(t, 'x', fileMetaOf(utf8Encode('x'), crypto, deep(5000)));
    expect((await refusal(signMetadata('Targets', t, 'targets', [keys.targets.signer]))).code).toBe('NESTING_TOO_DEEP');
  });

  it('canonicalizeToBytes refuses NaN and Infinity as canonicalize does', async () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const a = await refusal(() => canonicalize({ a: bad }));
      const b = await refusal(() => canonicalizeToBytes({ a: bad }));
      expect(b.code).toBe(a.code);
    }
  });

  it('the CLI refuses --custom nested 5,000 deep with a typed message', async () => {
    const dir = tempDir();
    try {
      const custom = join(dir, 'deep.json');
      await fs.writeFile(custom, '['.repeat(5000) + ']'.repeat(5000));
      await fs.writeFile(join(dir, 'p'), 'payload');
      const r = await runOurs(['-d', join(dir, 'td'), '-s', `file://${dir}/srv`, 'add', gun, 't', join(dir, 'p'), '--custom', custom], { cwd: dir });
      expect(r.code).toBe(1);
      const out = r.stdout + r.stderr;
      expect(out).toMatch(/nested more than 512 levels deep/);
      expect(out).not.toMatch(/internal error/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('trust_dir (defect 4)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = tempDir();
    await fs.writeFile(join(dir, 'file'), '{}');
    await fs.writeFile(join(dir, 'nul.json'), JSON.stringify({ trust_dir: '\u0000' }));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  const cases: [string, () => string[], RegExp][] = [
    ['6,000 characters', () => ['-d', join(dir, 'a'.repeat(6000)), 'key', 'list'], /longer than/],
    ['a NUL character (config)', () => ['-c', join(dir, 'nul.json'), 'key', 'list'], /NUL character/],
    ['a regular file', () => ['-d', join(dir, 'file'), 'list', gun, '-s', 'http://127.0.0.1:9'], /is not a directory/],
    ['below a regular file', () => ['-d', join(dir, 'file', 'x'), 'key', 'list'], /parent of it is not a directory/],
  ];
  for (const [what, args, message] of cases) {
    it(`a trust_dir with ${what} is named as the problem`, async () => {
      const r = await runOurs(args(), { cwd: dir });
      expect(r.code).toBe(1);
      const out = r.stdout + r.stderr;
      expect(out).toMatch(/\* fatal: invalid trust_dir /);
      expect(out).toMatch(message);
      expect(out).not.toMatch(/internal error|ENAMETOOLONG|ERR_INVALID_ARG_VALUE/);
    });
  }
});

describe('RSA private keys whose parts disagree (defect 4)', () => {
  const der = new Uint8Array(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'der', type: 'pkcs1' }));
  const good = decodePkcs1RsaPrivateKey(der);
  const bump = (b: Uint8Array) => {
    const out = b.slice();
    out[out.length - 1] = out[out.length - 1]! ^ 2;
    return out;
  };

  for (const part of ['d', 'dp', 'dq', 'qi'] as const) {
    it(`a key with a wrong ${part} (n = p·q still holds) is refused on load (MALFORMED_KEY)`, async () => {
      const bad = encodePkcs1RsaPrivateKey({ ...good, [part]: bump(good[part]) });
      expect((await refusal(() => decodePkcs1RsaPrivateKey(bad))).code).toBe('MALFORMED_KEY');
      const pem = `-----BEGIN RSA PRIVATE KEY-----\n${Buffer.from(bad).toString('base64')}\n-----END RSA PRIVATE KEY-----\n`;
      expect((await refusal(() => decodeKeyFile(pem, ''))).code).toBe('MALFORMED_KEY');
    });
  }

  for (const [name, backend] of BACKENDS) {
    it(`${name}: a signature that does not verify against the key's own public key is never returned (SIGNING_FAILED)`, async () => {
      const a = generateSigningKey(backend);
      const b = generateSigningKey(backend);
      const signer = softwareSigner(a.publicKey, b.privateKey, backend);
      const err = await refusal(async () => signer.sign(utf8Encode('message')));
      expect(err.code).toBe('SIGNING_FAILED');
      // And a consistent key still signs.
      const sig = await softwareSigner(a.publicKey, a.privateKey, backend).sign(utf8Encode('m'));
      expect(sig.length).toBeGreaterThan(0);
    });
  }

  it('the good key still loads', () => {
    expect(fromBase64(Buffer.from(encodePkcs1RsaPrivateKey(good)).toString('base64'))).toBeTruthy();
    expect(decodePkcs1RsaPrivateKey(encodePkcs1RsaPrivateKey(good)).n).toEqual(good.n);
  });
});

void DEFAULT_EXPIRY_DAYS;
void expiresAfterDays;
