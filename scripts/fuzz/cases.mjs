// The fuzz harness's cases: a corpus built from test-vectors/ (metadata, the vectors' own keys, key
// files, certificates, a config), seeded mutators, and one runner per target (the verification API on both
// crypto backends, key files and the key store, X.509 parsing, client config, the CLI against a hostile
// loopback server). Every case is a pure function of (seed, index): `runCase` replays it exactly.
//
// Each case is classified: `accepted` (with an oracle: an accepted mutant never changes signed content),
// `refused` with the NotaryError code, or `untyped` (anything else: a TypeError, a RangeError, a hang, a
// CLI stack trace or "internal error"), or `violation` (accepted with an answer its signed bytes do not give).
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = join(HERE, '..', '..');
// FUZZ_DIST runs the same cases against another build (e.g. an older commit's, to show what it finds).
const DIST = process.env.FUZZ_DIST ?? join(REPO, 'dist');

const lib = await import(join(DIST, 'index.js'));
const keyfile = await import(join(DIST, 'node', 'keyfile.js'));
const config = await import(join(DIST, 'node', 'config.js'));
const { NotaryError, RemoteError, nodeCryptoBackend, nobleCryptoBackend } = lib;
const BACKENDS = { node: nodeCryptoBackend, noble: nobleCryptoBackend };

// ------------------------------------------------------------------------------------------------
// PRNG: mulberry32 over a per-case seed, so a case replays on its own.

export function caseSeed(seed, index) {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index >>> 0, 0x85ebca77) ^ (Math.floor(index / 2 ** 32) * 0xc2b2ae3d)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

export function prng(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
  };
  return r;
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();
const b64 = (bytes) => Buffer.from(bytes).toString('base64');

// ------------------------------------------------------------------------------------------------
// Corpus

function vectorSets() {
  const index = JSON.parse(readFileSync(join(REPO, 'test-vectors', 'index.json'), 'utf8'));
  const names = Object.keys(index.sets ?? {}).sort();
  return names.filter((n) => n && existsSync(join(REPO, 'test-vectors', n, 'manifest.json')));
}

function roleFileName(role) {
  return `metadata/${role}.json`;
}

let corpusPromise;
export function corpus() {
  corpusPromise ??= buildCorpus();
  return corpusPromise;
}

async function buildCorpus() {
  const crypto = nodeCryptoBackend;
  const sets = [];
  for (const name of vectorSets()) {
    const dir = join(REPO, 'test-vectors', name);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const files = new Map();
    for (const r of manifest.roles) files.set(r.name, new Uint8Array(readFileSync(join(dir, r.file))));
    for (const c of manifest.rootChain ?? []) files.set(`${c.version}.root`, new Uint8Array(readFileSync(join(dir, c.file))));
    const now = new Date(manifest.generatedAt);
    // The vectors' own private keys, by canonical ID.
    const privateByCanonical = new Map();
    const keyFiles = [];
    for (const k of manifest.keys) {
      const pem = readFileSync(join(dir, k.file), 'utf8');
      keyFiles.push({ pem, passphrase: k.passphrase, canonicalId: k.canonicalId });
      privateByCanonical.set(k.canonicalId, keyfile.decodeKeyFile(pem, k.passphrase));
    }
    const set = { name, gun: manifest.gun, now, files, keyFiles, privateByCanonical };
    set.resignable = await resignableBase(set, crypto);
    set.answers = {};
    for (const [bname, backend] of Object.entries(BACKENDS)) {
      set.answers[bname] = {
        raw: answerOf(await lib.loadCollection((n) => files.get(n), { gun: set.gun, crypto: backend, clock: () => now })),
        resigned: answerOf(await lib.loadCollection((n) => set.resignable.files.get(n), { gun: set.gun, crypto: backend, clock: () => now })),
      };
    }
    sets.push(set);
  }
  // Certificates: every x509 key in the vectors' metadata and inputs/*.crt.
  const certificates = [];
  for (const set of sets) {
    for (const [role, bytes] of set.files) {
      if (/^\d+\.root$/.test(role)) continue;
      const doc = JSON.parse(utf8d.decode(bytes));
      const keys = { ...(doc.signed.keys ?? {}), ...(doc.signed.delegations?.keys ?? {}) };
      for (const k of Object.values(keys)) {
        if (k.keytype.endsWith('-x509')) certificates.push(utf8d.decode(Buffer.from(k.keyval.public, 'base64')));
      }
    }
  }
  const inputs = join(REPO, 'test-vectors', 'delegations', 'inputs');
  const publicPems = [];
  if (existsSync(inputs)) {
    for (const f of readdirSync(inputs)) {
      const text = readFileSync(join(inputs, f), 'utf8');
      (f.endsWith('.crt') ? certificates : publicPems).push(text);
    }
  }
  // Key files in the other encodings Notary reads (unencrypted): PKCS#1, SEC1, PKCS#8.
  const plainKeys = [];
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  plainKeys.push(rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }), rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  plainKeys.push(ec.privateKey.export({ format: 'pem', type: 'sec1' }), ec.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const configs = [
    { trust_dir: 'td', remote_server: { url: 'https://notary.example:4443', root_ca: 'ca.pem', skipTLSVerify: false }, trust_pinning: { certs: { 'example.com/a': ['ab'.repeat(32)] }, ca: { 'example.com/': 'ca.pem' }, disable_tofu: true } },
    { trust_dir: '~/x', trust_pinning: { certs: { 'example.com/*': ['cd'.repeat(32)] } } },
  ];
  return { sets, certificates, publicPems, plainKeys, configs };
}

/**
 * A set the harness can re-sign end to end: the root's timestamp key (the server's, not in the vectors)
 * and, where the vectors lack it, the snapshot key are replaced by fresh keys; root, snapshot and timestamp
 * are re-signed with the vectors' own root keys.
 */
async function resignableBase(set, crypto) {
  const signerFor = new Map(); // TUF key ID → MetadataSigner
  const rootDoc = JSON.parse(utf8d.decode(set.files.get('root')));
  const allKeys = { ...rootDoc.signed.keys };
  for (const [role, bytes] of set.files) {
    if (role === 'root' || /^\d+\.root$/.test(role)) continue;
    const d = JSON.parse(utf8d.decode(bytes)).signed.delegations;
    Object.assign(allKeys, d?.keys ?? {});
  }
  for (const [id, pub] of Object.entries(allKeys)) {
    let canonical;
    try {
      canonical = lib.canonicalKeyId(pub, crypto);
    } catch {
      continue;
    }
    const priv = set.privateByCanonical.get(canonical);
    if (priv) signerFor.set(id, lib.softwareSigner(pub, priv, crypto));
  }
  const root = rootDoc.signed;
  const fresh = (kind) => lib.generateSigningKey(crypto, kind);
  for (const role of ['timestamp', 'snapshot']) {
    const ids = root.roles[role].keyids;
    if (ids.some((id) => signerFor.has(id))) continue;
    const k = fresh(role === 'timestamp' ? 'ed25519' : 'ecdsa');
    root.keys[k.keyId] = k.publicKey;
    root.roles[role] = { keyids: [k.keyId], threshold: 1 };
    signerFor.set(k.keyId, k.signer);
  }
  const base = { files: new Map(set.files), signerFor, roleKeys: new Map() };
  for (const r of ['root', 'targets', 'snapshot', 'timestamp']) base.roleKeys.set(r, root.roles[r].keyids);
  // Delegations: the keys their parent lists for them.
  for (const [role, bytes] of set.files) {
    if (role === 'root' || /^\d+\.root$/.test(role)) continue;
    for (const d of JSON.parse(utf8d.decode(bytes)).signed.delegations?.roles ?? []) base.roleKeys.set(d.name, d.keyids ?? []);
  }
  base.files.set('root', await resign(base, 'root', root));
  for (const k of [...base.files.keys()]) if (/^\d+\.root$/.test(k)) base.files.delete(k);
  await rehash(base, 'root');
  // A timestamp that outlives the vectors' 14 days, so the CLI (wall clock) can still accept the base.
  const ts = JSON.parse(utf8d.decode(base.files.get('timestamp'))).signed;
  ts.expires = '2099-01-01T00:00:00Z';
  base.files.set('timestamp', await resign(base, 'timestamp', ts));
  return base;
}

function signersOf(base, role) {
  return (base.roleKeys.get(role) ?? []).map((id) => base.signerFor.get(id)).filter(Boolean);
}

/** Signs a decoded `signed` value as verification will see it: its canonical form, whatever its shape. */
async function resign(base, role, signed) {
  if (toJson(signed).deep) throw new Error('too deep to sign');
  const message = utf8.encode(lib.canonicalize(signed));
  const signatures = [];
  for (const s of signersOf(base, role)) signatures.push({ keyid: s.keyId, method: s.method, sig: b64(await s.sign(message)) });
  return utf8.encode(JSON.stringify({ signed, signatures }));
}

function fileMeta(bytes, crypto = nodeCryptoBackend) {
  return { hashes: { sha256: b64(crypto.sha256(bytes)), sha512: b64(crypto.sha512(bytes)) }, length: bytes.length };
}

/** After `role` changed: update its entry in the snapshot (if listed) and the snapshot's in the timestamp. */
async function rehash(base, role) {
  if (role !== 'timestamp' && role !== 'snapshot') {
    const snap = JSON.parse(utf8d.decode(base.files.get('snapshot'))).signed;
    if (snap?.meta && Object.prototype.hasOwnProperty.call(snap.meta, role)) {
      snap.meta[role] = fileMeta(base.files.get(role));
      base.files.set('snapshot', await resign(base, 'snapshot', snap));
    }
  }
  if (role !== 'timestamp') {
    const ts = JSON.parse(utf8d.decode(base.files.get('timestamp'))).signed;
    ts.meta = { ...ts.meta, snapshot: fileMeta(base.files.get('snapshot')) };
    base.files.set('timestamp', await resign(base, 'timestamp', ts));
  }
}

/** What a verified collection says: every visible target, as sorted JSON lines. */
function answerOf(loaded) {
  return lib.listTargets(loaded.set).map((t) => JSON.stringify([t.name, t.role, t.length, sortObj(t.hashes)]));
}

function sortObj(o) {
  const out = {};
  for (const k of Object.keys(o ?? {}).sort()) out[k] = o[k];
  return out;
}

// ------------------------------------------------------------------------------------------------
// Mutators

const SPECIAL_NUMBERS = [0, -1, 1, -0, 1.5, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 2 ** 63, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER, 4294967296];
const BAD_DATES = ['', 'x', '2020-13-45T25:61:61Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2026-01-01T00:00:00+99:99', '2026-01-01', '2026-01-01T00:00:00.123456789123Z', '+275760-09-13T00:00:00Z', '2026-02-30T00:00:00Z', '1970-01-01T00:00:00-00:01'];
const BAD_B64 = ['', '!', 'A', 'AA', 'AAA=A', '====', 'AB==CD', '\u0000', 'é', 'A'.repeat(1001), '-_-_'];
const WEIRD_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '', 'targets', 'root', '0', 'length'];

function randomValue(rng, depth = 0) {
  switch (rng.int(depth > 2 ? 5 : 8)) {
    case 0:
      return rng.pick(SPECIAL_NUMBERS);
    case 1:
      return rng.pick([...BAD_DATES, ...BAD_B64, 'targets/x', 'rsa', 'ecdsa-x509', 'ed25519']);
    case 2:
      return rng.chance(0.5);
    case 3:
      return null;
    case 4:
      return rng.int(5);
    case 5:
      return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
    case 6: {
      const o = {};
      for (let i = rng.int(4); i > 0; i--) setOwn(o, rng.pick(WEIRD_KEYS), randomValue(rng, depth + 1));
      return o;
    }
    default:
      return 'x'.repeat(rng.int(20));
  }
}

function setOwn(o, k, v) {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/**
 * JSON nested `n` deep. Beyond what JSON.stringify can recurse through (a worker's stack is small) it is a
 * marker that toJson writes out as text; such a value cannot be canonicalised (over 512 levels), so a
 * re-signed mutant holding it is served with its old signatures.
 */
function deepValue(n) {
  if (n > 512) return { [DEEP]: n };
  let v = 1;
  for (let i = 0; i < n; i++) v = [v];
  return v;
}
const DEEP = '\u0001deep';

/** JSON text of any depth (JSON.stringify recurses; a mutant parsed from deep text can be deeper). */
function stringifyIterative(root) {
  const out = [];
  const stack = [{ v: root }];
  while (stack.length) {
    const item = stack.pop();
    if (item.raw !== undefined) {
      out.push(item.raw);
      continue;
    }
    const v = item.v;
    if (v === null || typeof v !== 'object') {
      out.push(JSON.stringify(v) ?? 'null');
      continue;
    }
    const entries = Array.isArray(v) ? v.map((x) => [undefined, x]) : Object.keys(v).filter((k) => v[k] !== undefined).map((k) => [k, v[k]]);
    const close = Array.isArray(v) ? ']' : '}';
    stack.push({ raw: close });
    for (let i = entries.length - 1; i >= 0; i--) {
      stack.push({ v: entries[i][1] });
      const sep = i > 0 ? ',' : '';
      stack.push({ raw: sep + (entries[i][0] === undefined ? '' : JSON.stringify(entries[i][0]) + ':') });
    }
    stack.push({ raw: Array.isArray(v) ? '[' : '{' });
  }
  return out.join('');
}

function toJson(value) {
  try {
    return toJsonRecursive(value);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return { text: stringifyIterative(value), deep: true };
  }
}

function toJsonRecursive(value) {
  let deep = false;
  const text = JSON.stringify(value, (k, v) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, DEEP)) {
      deep = true;
      const n = v[DEEP];
      return `\u0001DEEP${Number.isSafeInteger(n) && n > 0 ? n : 1}\u0001`;
    }
    return v;
  });
  if (text === undefined) return { text: 'null', deep };
  return { text: deep ? text.replace(/"\\u0001DEEP(\d+)\\u0001"/g, (_, n) => '['.repeat(Math.min(Number(n), 100_000)) + '1' + ']'.repeat(Math.min(Number(n), 100_000))) : text, deep };
}

/** Every (container, key) pair in a JSON tree, for picking a node to mutate. */
function nodes(root) {
  const out = [];
  const stack = [root];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    for (const k of Object.keys(v)) {
      out.push([v, k]);
      stack.push(v[k]);
    }
  }
  return out;
}

function garbageDer(rng, depth = 0) {
  const parts = [];
  for (let i = rng.int(4) + 1; i > 0; i--) {
    const tag = rng.pick([0x30, 0x31, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x17, 0x18, 0xa0, 0xa3, rng.int(256)]);
    const body = depth < 4 && (tag & 0x20) ? garbageDer(rng, depth + 1) : Uint8Array.from({ length: rng.int(40) }, () => rng.int(256));
    let len = body.length;
    if (rng.chance(0.1)) len = rng.pick([0x80, 0x81, 0x84, 0xff, body.length + 1, 0]);
    parts.push(Uint8Array.of(tag, len < 128 ? len : 0x81, ...(len < 128 ? [] : [len & 0xff])), body);
  }
  return Buffer.concat(parts);
}

/** A DER certificate mutated: byte flips, length bytes, truncation, splices, or garbage. */
function mutateDer(rng, der) {
  const b = Buffer.from(der);
  switch (rng.int(6)) {
    case 0: {
      for (let i = rng.int(4) + 1; i > 0; i--) b[rng.int(b.length)] ^= 1 << rng.int(8);
      return b;
    }
    case 1:
      return b.subarray(0, rng.int(b.length));
    case 2: {
      // A length byte: find a tag-like position and corrupt the following byte.
      const i = rng.int(Math.max(1, b.length - 1));
      b[i + 1] = rng.pick([0x80, 0x81, 0x82, 0x84, 0x89, 0xff, 0x00, 0x7f]);
      return b;
    }
    case 3:
      return Buffer.concat([b.subarray(0, rng.int(b.length)), garbageDer(rng), b.subarray(rng.int(b.length))]);
    case 4:
      return garbageDer(rng);
    default: {
      const i = rng.int(b.length);
      return Buffer.concat([b.subarray(0, i), b.subarray(i, i + rng.int(64)), b.subarray(i)]);
    }
  }
}

function pemOfDer(der, type = 'CERTIFICATE') {
  const body = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${type}-----\n${body}-----END ${type}-----\n`;
}

function derOfPem(pem) {
  const m = /-----BEGIN [^-]+-----([\s\S]*?)-----END/.exec(pem);
  return m ? Buffer.from(m[1].replace(/^[A-Za-z-]+:.*$/gm, '').replace(/\s+/g, ''), 'base64') : Buffer.alloc(0);
}

/** A JSON-aware mutation of a parsed document (in place; returns the document, or a replacement). */
function mutateJson(rng, doc, corpusData) {
  const all = nodes(doc);
  if (all.length === 0) return randomValue(rng);
  const [parent, key] = rng.pick(all);
  const v = parent[key];
  switch (rng.int(15)) {
    case 0:
      parent[key] = randomValue(rng);
      break;
    case 1:
      parent[key] = rng.pick(SPECIAL_NUMBERS);
      break;
    case 2:
      parent[key] = rng.pick(BAD_DATES);
      break;
    case 3:
      parent[key] = rng.pick(BAD_B64);
      break;
    case 4:
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
      break;
    case 5: {
      // A weird key (an own __proto__ included) next to `key`.
      const target = v !== null && typeof v === 'object' && !Array.isArray(v) ? v : Array.isArray(parent) ? null : parent;
      if (target) setOwn(target, rng.pick(WEIRD_KEYS), rng.chance(0.5) ? randomValue(rng) : structuredClone(rng.pick(Object.values(target).filter((x) => x !== undefined)) ?? {}));
      else parent[key] = randomValue(rng);
      break;
    }
    case 6:
      parent[key] = deepValue(rng.pick([100, 600, 2000, 5000, 20000]));
      break;
    case 7:
      if (Array.isArray(v) && v.length > 0) {
        const n = rng.pick([2, 3, 10, 1000]);
        const item = v[rng.int(v.length)];
        for (let i = 0; i < n; i++) v.push(structuredClone(item));
      } else if (typeof v === 'string') parent[key] = v.repeat(rng.pick([2, 100]));
      else parent[key] = [v, v];
      break;
    case 8:
      if (typeof v === 'string') {
        const chars = [...v];
        if (chars.length) chars[rng.int(chars.length)] = rng.pick(['/', '\\', '"', '\u0000', '\u2028', 'é', '😀', '<', '.', '..', ' ', '*']);
        parent[key] = chars.join('');
      } else parent[key] = String(v);
      break;
    case 9:
      if (typeof v === 'number') parent[key] = v + rng.pick([-1, 1, 2 ** 40, -(2 ** 40)]);
      else parent[key] = rng.int(3);
      break;
    case 10: {
      // A garbage certificate where a key's public value was.
      const cert = derOfPem(rng.pick(corpusData.certificates));
      const pem = rng.chance(0.5) ? pemOfDer(mutateDer(rng, cert)) : pemOfDer(cert) + pemOfDer(mutateDer(rng, cert));
      parent[key] = typeof v === 'string' ? b64(utf8.encode(pem)) : { keytype: rng.pick(['ecdsa-x509', 'rsa-x509']), keyval: { private: null, public: b64(utf8.encode(pem)) } };
      break;
    }
    case 11:
      parent[key] = Array.isArray(v) ? {} : v !== null && typeof v === 'object' ? [] : { v };
      break;
    case 12:
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const ks = Object.keys(v);
        if (ks.length) setOwn(v, ks[rng.int(ks.length)] + rng.pick(['', '/', 'x', '/sub']), structuredClone(v[ks[rng.int(ks.length)]]));
      } else parent[key] = null;
      break;
    case 13:
      parent[key] = rng.pick([-1, 0, 2, 1000, 2 ** 53]);
      break;
    default:
      if (typeof v === 'string') parent[key] = v.slice(0, rng.int(v.length + 1));
      else parent[key] = undefined;
  }
  return doc;
}

/**
 * A shape-preserving mutation (numbers stay integers, strings stay strings, dates stay dates): after
 * re-signing, these are what reach the checks behind the schema — versions, thresholds, expiry, key IDs,
 * delegation names and paths, hashes and lengths.
 */
function mutateSemantic(rng, doc) {
  if (rng.chance(0.25) && structuralAttack(rng, doc)) return doc;
  const all = nodes(doc);
  if (all.length === 0) return doc;
  const [parent, key] = rng.pick(all);
  const v = parent[key];
  if (typeof v === 'number') parent[key] = rng.pick([0, 1, 2, 3, v - 1, v + 1, v * 2, 2 ** 31, 2 ** 53 - 1, -1]);
  else if (typeof v === 'string') {
    if (key === 'expires') parent[key] = rng.pick(['2000-01-01T00:00:00Z', '2099-01-01T00:00:00Z', '2026-11-23T20:00:00-05:00', '2026-11-23T21:00:00.5Z']);
    else if (key === 'name') parent[key] = rng.pick(['targets', 'targets/x', v + '/x', v.split('/').slice(0, -1).join('/'), 'targets/' + v, v.toUpperCase(), v + '/', 'targets/a/../b']);
    else if (key === 'keytype') parent[key] = rng.pick(['ed25519', 'ecdsa', 'ecdsa-x509', 'rsa', 'rsa-x509', 'RSA']);
    else if (key === 'method') parent[key] = rng.pick(['eddsa', 'ecdsa', 'rsapss', 'rsapkcs1v15', 'ECDSA']);
    else if (key === '_type') parent[key] = rng.pick(['Root', 'Targets', 'Snapshot', 'Timestamp', 'root']);
    else if (/^[A-Za-z0-9+/]+=*$/.test(v) && v.length >= 8) {
      const b = Buffer.from(v, 'base64');
      if (b.length) b[rng.int(b.length)] ^= 1;
      parent[key] = b.toString('base64');
    } else parent[key] = rng.pick(['', v + 'x', v.slice(1), 'shared/', 'qa/', '/', 'rel/one', v.repeat(2)]);
  } else if (Array.isArray(v)) {
    if (v.length && rng.chance(0.5)) v.push(structuredClone(v[rng.int(v.length)]));
    else if (v.length) v.splice(rng.int(v.length), 1);
    else v.push(rng.pick(['', 'x/', 'targets/x']));
  } else if (v !== null && typeof v === 'object') {
    const ks = Object.keys(v);
    if (ks.length && rng.chance(0.5)) delete v[rng.pick(ks)];
    else if (ks.length) setOwn(v, rng.pick([rng.pick(ks) + 'x', 'targets/new', 'sha256', 'sha512', '__proto__', 'constructor']), structuredClone(v[rng.pick(ks)]));
  } else if (typeof v === 'boolean') parent[key] = !v;
  else parent[key] = rng.pick([0, '', [], {}]);
  return doc;
}

/**
 * Attacks on structure that random edits rarely assemble: a key under an Object.prototype name listed by a
 * role, a delegation role listed many times, a key ID listed thousands of times. Returns false when `doc`
 * has nothing to attack.
 */
function structuralAttack(rng, doc) {
  const keys = doc.keys ?? doc.delegations?.keys;
  const roles = doc.roles ?? doc.delegations?.roles;
  if (!keys || !roles || typeof keys !== 'object' || typeof roles !== 'object') return false;
  const roleList = Array.isArray(roles) ? roles : Object.values(roles);
  const role = roleList.length ? rng.pick(roleList) : undefined;
  if (!role || !Array.isArray(role.keyids)) return false;
  switch (rng.int(3)) {
    case 0: {
      const id = rng.chance(0.5) ? '__proto__' : rng.pick(WEIRD_KEYS.filter((k) => k !== ''));
      const existing = Object.values(keys)[0];
      setOwn(keys, id, rng.pick([{}, null, 1, 'x', structuredClone(existing ?? {}), { keytype: 'ed25519' }, { keyval: {} }]));
      role.keyids.push(id);
      return true;
    }
    case 1:
      if (Array.isArray(roles) && roles.length) {
        const r = rng.pick(roles);
        for (let i = rng.pick([1, 3, 8]); i > 0; i--) roles.push(structuredClone(r));
        return true;
      }
      return false;
    default: {
      const id = role.keyids[0];
      if (id === undefined) return false;
      for (let i = rng.pick([10, 1000, 20000]); i > 0; i--) role.keyids.push(id);
      return true;
    }
  }
}

/** Byte-level mutations of a file. */
function mutateBytes(rng, bytes) {
  const b = Buffer.from(bytes);
  switch (rng.int(8)) {
    case 0:
      for (let i = rng.int(3) + 1; i > 0; i--) b[rng.int(b.length)] ^= 1 << rng.int(8);
      return b;
    case 1:
      return b.subarray(0, rng.int(b.length));
    case 2: {
      const i = rng.int(b.length);
      return Buffer.concat([b.subarray(0, i), Buffer.from(rng.pick(['"', '{', '}', '[', ']', ',', ':', '\\', '\\u0000', 'null', '1e999', '-', '\u00ff', '\ud800'])), b.subarray(i)]);
    }
    case 3: {
      const i = rng.int(b.length);
      return Buffer.concat([b.subarray(0, i), b.subarray(i + rng.int(32) + 1)]);
    }
    case 4:
      b[rng.int(b.length)] = rng.pick([0x00, 0x22, 0x5c, 0x7b, 0x7d, 0x80, 0xc0, 0xff, 0x30, 0x39]);
      return b;
    case 5: {
      // A duplicate key: `{"version":N,` injected after an object opening.
      const text = b.toString('latin1');
      const positions = [...text.matchAll(/\{"/g)].map((m) => m.index);
      const at = positions.length ? rng.pick(positions) + 1 : 1;
      const dup = rng.pick(['"version":1,', '"version":999999,', '"_type":"Root",', '"expires":"2999-01-01T00:00:00Z",', '"__proto__":{},', '"keys":{},', '"signed":{},', '"__proto__":{"keytype":"ed25519","keyval":{"public":"AA=="}},']);
      return Buffer.from(text.slice(0, at) + dup + text.slice(at), 'latin1');
    }
    case 6: {
      // A number turned huge.
      const text = b.toString('latin1');
      return Buffer.from(text.replace(/(\d+)/, (m) => (rng.chance(0.5) ? m + '0000000000000000000000' : '9'.repeat(400))), 'latin1');
    }
    default:
      return Buffer.concat([b, Buffer.from(rng.pick([' ', '\n', 'x', '{}', '\u0000']))]);
  }
}

// ------------------------------------------------------------------------------------------------
// Classification

function classifyError(err) {
  if (err instanceof NotaryError && typeof err.code === 'string') return { outcome: 'refused', code: err.code };
  return { outcome: 'untyped', code: err?.name ?? typeof err, message: String(err?.stack ?? err).slice(0, 2000) };
}

async function guarded(fn) {
  try {
    return await fn();
  } catch (err) {
    return classifyError(err);
  }
}

// ------------------------------------------------------------------------------------------------
// Targets

const CACHE_NOTHING = { get: async () => undefined, set: async () => {}, remove: async () => {} };

function memoryRemote(files) {
  const get = (role) => {
    const b = files.get(role);
    if (!b) throw new RemoteError('NOT_FOUND', `${role} not found`, { where: role });
    return b;
  };
  return {
    host: 'fuzz',
    getTimestamp: async () => get('timestamp'),
    getRoot: async () => get('root'),
    getRootVersion: async (v) => get(`${v}.root`),
    getRoleByChecksum: async (role) => get(role),
    getRole: async (role) => get(role),
  };
}

/** Runs a metadata case: the files through loadCollection or the reader, checked by the oracle. */
async function verifyFiles(input, set) {
  const backend = BACKENDS[input.backend];
  const files = new Map(input.files.map(([k, v]) => [k, Buffer.from(v, 'base64')]));
  const now = set.now;
  const trustedRoot = input.trustedRoot ? Buffer.from(input.trustedRoot, 'base64') : undefined;
  let loaded;
  try {
    if (input.api === 'reader') {
      const cache = new lib.MemoryMetadataCache();
      for (const [k, v] of input.cached ?? []) await cache.set(k, Buffer.from(v, 'base64'));
      const repo = await lib.TrustedRepository.open({ gun: set.gun, remote: memoryRemote(files), cache, crypto: backend, clock: () => now, log: { warn() {}, debug() {} } });
      const listed = await repo.listTargets();
      loaded = { answer: listed.map((t) => JSON.stringify([t.name, t.role, t.length, sortObj(t.hashes)])), skipped: repo.trusted.roles.size < (input.expectedRoles ?? 0) ? 1 : 0 };
      void CACHE_NOTHING;
    } else {
      const c = await lib.loadCollection((n) => files.get(n), { gun: set.gun, crypto: backend, clock: () => now, ...(trustedRoot ? { trustedRoot } : {}) });
      loaded = { answer: answerOf(c), skipped: c.skipped.length };
    }
  } catch (err) {
    return classifyError(err);
  }
  // Oracle: nothing reported that the signed bytes do not say.
  if (input.mode === 'raw') {
    const original = new Set(set.answers[input.backend].raw);
    const extra = loaded.answer.filter((a) => !original.has(a));
    if (extra.length > 0) return { outcome: 'violation', code: 'ANSWER_CHANGED', message: extra.slice(0, 3).join(' | ') };
    return { outcome: 'accepted', code: loaded.answer.length === original.size ? 'SAME' : 'SUBSET' };
  }
  // Re-signed: every answer entry must be what the served file of its role signs.
  for (const line of loaded.answer) {
    const [name, role, length, hashes] = JSON.parse(line);
    const bytes = files.get(role);
    let entry;
    try {
      const doc = JSON.parse(utf8d.decode(bytes));
      entry = Object.prototype.hasOwnProperty.call(doc.signed.targets ?? {}, name) ? doc.signed.targets[name] : undefined;
    } catch {
      entry = undefined;
    }
    if (!entry || entry.length !== length || JSON.stringify(sortObj(entry.hashes ?? {})) !== JSON.stringify(hashes)) {
      return { outcome: 'violation', code: 'NOT_SIGNED', message: line.slice(0, 300) };
    }
  }
  // And the top-level targets role's own entries are all visible (it cannot be skipped).
  try {
    const top = JSON.parse(utf8d.decode(files.get('targets'))).signed.targets ?? {};
    const names = new Set(loaded.answer.map((l) => JSON.parse(l)[0]));
    for (const name of Object.keys(top)) if (!names.has(name)) return { outcome: 'violation', code: 'TARGET_HIDDEN', message: name.slice(0, 200) };
  } catch {
    /* unparseable targets cannot have been accepted */
  }
  return { outcome: 'accepted', code: 'SIGNED' };
}

// ------------------------------------------------------------------------------------------------
// Case generation

const KINDS = [
  ['meta-raw', 36],
  ['meta-resigned', 42],
  ['keyfile', 9],
  ['x509', 9],
  ['config', 3],
  ['keystore', 1],
];
const KIND_TOTAL = KINDS.reduce((a, [, w]) => a + w, 0);

/** Which kind case `index` is: CLI cases are every `cliEvery`-th (slow: a process each). */
export function kindOf(rng, index, cliEvery) {
  if (cliEvery > 0 && index % cliEvery === cliEvery - 1) return 'cli';
  let x = rng.int(KIND_TOTAL);
  for (const [k, w] of KINDS) {
    if (x < w) return k;
    x -= w;
  }
  return 'meta-raw';
}

/** Builds the concrete input of a case (everything needed to replay it without the PRNG). */
export async function makeInput(seed, index, options = {}) {
  const c = await corpus();
  const rng = prng(caseSeed(seed, index));
  const kind = kindOf(rng, index, options.cliEvery ?? 0);
  const backend = rng.chance(0.12) ? 'noble' : 'node'; // noble is 4-5x slower: a smaller share
  const set = rng.pick(c.sets);
  switch (kind) {
    case 'meta-raw':
    case 'cli': {
      const files = new Map(kind === 'cli' ? set.resignable.files : set.files);
      const n = rng.chance(0.8) ? 1 : 2;
      for (let i = 0; i < n; i++) {
        const role = rng.pick([...files.keys()]);
        let bytes = files.get(role);
        if (rng.chance(0.5)) bytes = mutateBytes(rng, bytes);
        else {
          let doc;
          try {
            doc = JSON.parse(utf8d.decode(bytes));
          } catch {
            doc = {}; // already mutated into something unparseable
          }
          bytes = utf8.encode(toJson(mutateJson(rng, doc, c)).text);
        }
        if (rng.chance(0.05)) files.delete(role);
        else files.set(role, bytes);
      }
      const chain = [...set.files.keys()].filter((k) => /^\d+\.root$/.test(k));
      const trustedRoot = chain.length > 1 && rng.chance(0.5) ? b64(set.files.get('1.root')) : undefined;
      const api = kind === 'cli' ? 'cli' : rng.chance(0.3) ? 'reader' : 'load';
      const input = { kind, set: set.name, backend, mode: 'raw', api, files: [...files].map(([k, v]) => [k, b64(v)]) };
      if (trustedRoot && api === 'load') input.trustedRoot = trustedRoot;
      if (api === 'reader' && rng.chance(0.5)) input.cached = [['root', b64(set.files.get('root'))]];
      return input;
    }
    case 'meta-resigned': {
      const base = { ...set.resignable, files: new Map(set.resignable.files) };
      const roles = [...base.files.keys()];
      const role = rng.pick(roles);
      const doc = JSON.parse(utf8d.decode(base.files.get(role)));
      let signed = doc.signed;
      const semantic = rng.chance(0.6);
      for (let i = rng.int(3) + 1; i > 0; i--) signed = semantic ? mutateSemantic(rng, signed) : mutateJson(rng, signed, c);
      let bytes;
      try {
        bytes = await resign(base, role, signed);
      } catch {
        bytes = utf8.encode(toJson({ signed, signatures: doc.signatures }).text); // not canonicalisable: served as is
      }
      base.files.set(role, bytes);
      try {
        await rehash(base, role);
      } catch {
        /* a mutated snapshot/timestamp that cannot be re-hashed is served as it is */
      }
      const api = rng.chance(0.3) ? 'reader' : 'load';
      return { kind, set: set.name, backend, mode: 'resigned', api, files: [...base.files].map(([k, v]) => [k, b64(v)]) };
    }
    case 'keyfile': {
      const useVector = rng.chance(0.6);
      const k = useVector ? rng.pick(set.keyFiles) : { pem: rng.pick(c.plainKeys), passphrase: '' };
      let pem = k.pem;
      const r = rng.int(4);
      if (r === 0) pem = mutateBytes(rng, Buffer.from(pem)).toString('latin1');
      else if (r === 1) {
        const der = derOfPem(pem);
        const type = /-----BEGIN ([^-]+)-----/.exec(pem)?.[1] ?? 'PRIVATE KEY';
        const headers = (pem.match(/^[A-Za-z-]+: .*$/gm) ?? []).join('\n');
        pem = `-----BEGIN ${type}-----\n${headers ? headers + '\n\n' : ''}${b64(mutateDer(rng, der)).replace(/.{1,64}/g, '$&\n')}-----END ${type}-----\n`;
      } else if (r === 2) pem = pem.replace(/^(role|gun): .*$/m, (m) => m.split(':')[0] + ': ' + rng.pick(['', 'root', 'targets/../x', '\u0000', 'x'.repeat(300)]));
      else pem = pem.replace(/BEGIN [A-Z ]+KEY/, 'BEGIN ' + rng.pick(['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY', 'ED25519 PRIVATE KEY', 'CERTIFICATE', 'PUBLIC KEY']));
      const passphrase = rng.chance(0.8) ? k.passphrase : rng.pick(['', 'wrong', k.passphrase + 'x']);
      return { kind, backend, pem: Buffer.from(pem, 'latin1').toString('base64'), passphrase };
    }
    case 'keystore': {
      const k = rng.pick(set.keyFiles);
      const pem = mutateBytes(rng, Buffer.from(k.pem)).toString('base64');
      const name = rng.chance(0.8) ? k.canonicalId : rng.pick(['x', 'ab'.repeat(32), '..', 'root_keys']);
      return { kind, backend, pem, name, passphrase: k.passphrase };
    }
    case 'x509': {
      const pem = rng.pick([...c.certificates, ...c.publicPems]);
      const der = derOfPem(pem);
      const mutated = rng.chance(0.15) ? garbageDer(rng) : mutateDer(rng, der);
      const type = rng.chance(0.8) ? 'CERTIFICATE' : rng.pick(['PUBLIC KEY', 'CERTIFICATE REQUEST']);
      return { kind, backend, der: b64(mutated), type, gun: set.gun, now: set.now.toISOString() };
    }
    case 'config': {
      const doc = structuredClone(rng.pick(c.configs));
      for (let i = rng.int(3) + 1; i > 0; i--) mutateJson(rng, doc, c);
      let text = toJson(doc).text;
      if (rng.chance(0.3)) text = mutateBytes(rng, Buffer.from(text)).toString('latin1');
      return { kind, backend, text: Buffer.from(text, 'latin1').toString('base64') };
    }
  }
  throw new Error(`unknown kind ${kind}`);
}

let workDir;
function scratch() {
  workDir ??= mkdtempSync(join(tmpdir(), 'notary-ts-fuzz-'));
  return workDir;
}
export function cleanup() {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  workDir = undefined;
  if (cliServer) cliServer.close();
  cliServer = undefined;
}

/** Runs one concrete input and classifies the result. */
export async function runInput(input) {
  const c = await corpus();
  const set = c.sets.find((s) => s.name === input.set) ?? c.sets[0];
  switch (input.kind) {
    case 'meta-raw':
    case 'meta-resigned':
      return verifyFiles(input, set);
    case 'cli':
      return runCli(input, set);
    case 'keyfile':
      return guarded(() => {
        const pem = Buffer.from(input.pem, 'base64');
        keyfile.readKeyFileInfo(pem);
        const key = keyfile.decodeKeyFile(pem, input.passphrase);
        // Accepted: the key signs, and its signature verifies on the chosen backend.
        const pub = lib.publicKeyOf(key);
        const signer = lib.softwareSigner(pub, key, BACKENDS[input.backend]);
        return Promise.resolve(signer.sign(utf8.encode('fuzz'))).then(() => ({ outcome: 'accepted', code: key.kind }));
      });
    case 'keystore':
      return guarded(async () => {
        const dir = join(scratch(), `ks-${process.pid}-${Math.random().toString(36).slice(2)}`);
        try {
          mkdirSync(join(dir, 'private'), { recursive: true, mode: 0o700 });
          writeFileSync(join(dir, 'private', `${input.name}.key`), Buffer.from(input.pem, 'base64'), { mode: 0o600 });
          const store = await lib.FileKeyStore.open(dir, { retriever: lib.constantRetriever(input.passphrase), crypto: BACKENDS[input.backend], log: () => {}, lockTimeoutMs: 5000 });
          const keys = await store.list();
          for (const k of keys) await store.getSigner(k.keyId).then((s) => s.sign(utf8.encode('fuzz')));
          return { outcome: 'accepted', code: `KEYS_${keys.length}` };
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    case 'x509':
      return guarded(() => {
        const der = Buffer.from(input.der, 'base64');
        const pem = pemOfDer(der, input.type);
        if (input.type === 'CERTIFICATE') {
          const cert = lib.parseCertificate(der);
          lib.pemToCertificates(pem);
          lib.checkRootCertificate(cert, input.gun, new Date(input.now));
          const key = { keytype: cert.publicKey.kind === 'rsa' ? 'rsa-x509' : 'ecdsa-x509', keyval: { public: b64(utf8.encode(pem)) } };
          lib.decodePublicKey(key);
          lib.canonicalKeyId(key, BACKENDS[input.backend]);
          return { outcome: 'accepted', code: 'CERTIFICATE' };
        }
        lib.parseSpki(der);
        return { outcome: 'accepted', code: 'SPKI' };
      });
    case 'config':
      return guarded(async () => {
        const dir = join(scratch(), `cfg-${process.pid}-${Math.random().toString(36).slice(2)}`);
        mkdirSync(dir, { recursive: true });
        try {
          const file = join(dir, 'config.json');
          writeFileSync(file, Buffer.from(input.text, 'base64'));
          const cfg = await config.loadClientConfig({ configFile: file }, { cwd: dir, home: dir });
          config.trustPinningOf(cfg);
          return { outcome: 'accepted', code: 'CONFIG' };
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
  }
  return { outcome: 'untyped', code: 'UNKNOWN_KIND' };
}

// ------------------------------------------------------------------------------------------------
// CLI: the bin against a hostile loopback server serving the mutated files.

let cliServer;
let cliServing = new Map();
let cliPort;
async function hostileServer() {
  if (cliServer) return cliPort;
  cliServer = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    if (url === '/v2/' || url === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const m = /\/_trust\/tuf\/(.+?)(?:\.[0-9a-f]{64})?\.json$/.exec(url);
    const bytes = m ? cliServing.get(m[1]) : undefined;
    if (!bytes) {
      res.writeHead(404).end('{"errors":[{"code":"METADATA_NOT_FOUND","message":"not found"}]}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length }).end(bytes);
  });
  await new Promise((resolve) => cliServer.listen(0, '127.0.0.1', resolve));
  cliPort = cliServer.address().port;
  cliServer.unref();
  return cliPort;
}

let cliExpected = new Map();
async function runCli(input, set) {
  const port = await hostileServer();
  const run = async (files) => {
    cliServing = files;
    const dir = join(scratch(), `cli-${process.pid}-${Math.random().toString(36).slice(2)}`);
    mkdirSync(dir, { recursive: true });
    try {
      return await new Promise((resolve) => {
        const child = spawn(process.execPath, [join(DIST, 'cli', 'main.js'), '-s', `http://127.0.0.1:${port}`, '-d', dir, 'list', set.gun], {
          env: { PATH: process.env.PATH, HOME: dir, TZ: 'UTC', NOTARY_TS_FAKETIME: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal, out, err });
        });
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  // The CLI judges expiry by the wall clock: the clean set's own answer (same clock) is the reference.
  if (!cliExpected.has(set.name)) cliExpected.set(set.name, await run(set.resignable.files));
  const expected = cliExpected.get(set.name);
  const r = await run(new Map(input.files.map(([k, v]) => [k, Buffer.from(v, 'base64')])));
  const text = r.out + r.err;
  if (r.signal || /internal error|\n\s+at .+\(.+:\d+:\d+\)|Maximum call stack/.test(text) || (r.code !== 0 && r.code !== 1)) {
    return { outcome: 'untyped', code: r.signal ? `SIGNAL_${r.signal}` : `EXIT_${r.code}`, message: text.slice(0, 2000) };
  }
  if (r.code === 1) {
    const fatal = /\* fatal: (.*)/.exec(text);
    if (!fatal) return { outcome: 'untyped', code: 'NO_FATAL_LINE', message: text.slice(0, 2000) };
    return { outcome: 'refused', code: 'CLI:' + fatal[1].replace(/[0-9a-f]{8,}/g, '…').slice(0, 40) };
  }
  if (expected.code !== 0) return { outcome: 'accepted', code: 'CLI_REFERENCE_FAILED' };
  const want = new Set(expected.out.split('\n'));
  const extra = r.out.split('\n').filter((l) => !want.has(l));
  if (extra.length) return { outcome: 'violation', code: 'CLI_ANSWER_CHANGED', message: extra.slice(0, 3).join(' | ') };
  return { outcome: 'accepted', code: 'CLI' };
}

/** Generates and runs case `index` of campaign `seed`. */
export async function runCase(seed, index, options = {}) {
  let input;
  try {
    input = await makeInput(seed, index, options);
  } catch (err) {
    // The generator itself failed: a harness problem, reported apart from the library's outcomes.
    return { input: { kind: 'generator', seed, index }, result: { outcome: 'harness', code: err?.name ?? 'Error', message: String(err?.stack ?? err) } };
  }
  const result = await runInput(input);
  return { input, result };
}

/** Writes a regression vector for a case that was untyped or a violation. */
export function saveRegression(dir, seed, index, input, result) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${input.kind}-s${seed}-i${index}.json`);
  writeFileSync(file, JSON.stringify({ seed, index, found: result, input }, null, 1) + '\n');
  return file;
}
