#!/usr/bin/env node
// Regenerate test-vectors/<set>/ with the real Notary 0.7 CLI (`notary`) against a throw-away
// notary-server (memory backend, local ed25519 signer) on 127.0.0.1.
//
//   node scripts/gen-vectors.mjs [--sets basic,delegations,...] [--keep-tmp]
//
// Normally run through `npm run vectors` (scripts/gen-vectors.sh), which installs notary,
// openssl and tzdata first. Each set directory is wiped and rewritten. Key material, signatures
// and timestamps differ on every run; tests must read manifest.json instead of hard-coding values.
//
// Per set it writes:
//   metadata/            exact bytes served by the server (current role names, plus <N>.root.json)
//   trust_dir/private/   the encrypted private keys the Go client created/imported
//   trust_dir/tuf/<gun>/changelist/   only when the set leaves unpublished changes
//   payloads/            the files given to `notary add` (for `verify` tests)
//   inputs/              certificates / public keys used for `notary delegation add`
//   manifest.json        machine-readable expectations (see test-vectors/README.md)

import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNotaryServer } from './lib/notary-server.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(REPO, 'test-vectors');

// Fixed test passphrases (the keys are throw-away test keys).
export const PASSPHRASES = {
  root: 'vectors-root-passphrase',
  targets: 'vectors-targets-passphrase',
  snapshot: 'vectors-snapshot-passphrase',
  delegation: 'vectors-delegation-passphrase',
};

const ALL_SETS = ['basic', 'delegations', 'server-snapshot', 'root-rotation'];

// ---------------------------------------------------------------------------------------------
// small helpers

const sha256hex = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const b64ToHex = (b64) => Buffer.from(b64, 'base64').toString('hex');

function die(msg) {
  console.error(`gen-vectors: ${msg}`);
  process.exit(1);
}

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

function writeFile(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

function writeJson(file, obj) {
  writeFile(file, JSON.stringify(obj, null, 2) + '\n');
}

function run(cmd, args, { input, env, cwd, allowFail = false } = {}) {
  const r = spawnSync(cmd, args, { input: input === undefined ? undefined : Buffer.from(input), env, cwd, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  const res = { status: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
  if (r.status !== 0 && !allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
  }
  return res;
}

// Notary canonical JSON (keys sorted by UTF-8 bytes, only `"` and `\` escaped, integers only).
// Used here only to double-check the signatures the Go tools produced.
function canonical(v) {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`non-integer number ${v}`);
    return String(v);
  }
  if (typeof v === 'string') return '"' + v.replace(/["\\]/g, (c) => '\\' + c) + '"';
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  const keys = Object.keys(v).sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  return '{' + keys.map((k) => canonical(k) + ':' + canonical(v[k])).join(',') + '}';
}

function keyIdOf(keytype, publicB64) {
  return sha256hex(Buffer.from(`{"keytype":"${keytype}","keyval":{"private":null,"public":"${publicB64}"}}`, 'utf8'));
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Describe a TUF key object: Node public key, TUF id, canonical id, certificate facts. */
function describeKey(key) {
  const pub = Buffer.from(key.keyval.public, 'base64');
  const out = { keytype: key.keytype, tufId: keyIdOf(key.keytype, key.keyval.public) };
  let nodeKey;
  switch (key.keytype) {
    case 'ecdsa':
    case 'rsa':
      nodeKey = crypto.createPublicKey({ key: pub, format: 'der', type: 'spki' });
      out.canonicalId = out.tufId;
      break;
    case 'ed25519':
      nodeKey = crypto.createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, pub]), format: 'der', type: 'spki' });
      out.canonicalId = out.tufId;
      break;
    case 'ecdsa-x509':
    case 'rsa-x509': {
      const cert = new crypto.X509Certificate(pub.toString('utf8'));
      nodeKey = cert.publicKey;
      const spki = nodeKey.export({ type: 'spki', format: 'der' }).toString('base64');
      out.canonicalId = keyIdOf(key.keytype === 'rsa-x509' ? 'rsa' : 'ecdsa', spki);
      out.certificate = { subject: cert.subject, validFrom: new Date(cert.validFrom).toISOString(), validTo: new Date(cert.validTo).toISOString() };
      break;
    }
    default:
      throw new Error(`unknown keytype ${key.keytype}`);
  }
  return { ...out, nodeKey };
}

function verifySig(nodeKey, method, msg, sigB64) {
  const sig = Buffer.from(sigB64, 'base64');
  switch (method) {
    case 'ecdsa':
      return crypto.verify('sha256', msg, { key: nodeKey, dsaEncoding: 'ieee-p1363' }, sig);
    case 'rsapss':
      return crypto.verify('sha256', msg, { key: nodeKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
    case 'eddsa':
      return crypto.verify(null, msg, nodeKey, sig);
    default:
      return false;
  }
}

/** Check every signature of a metadata file against a {tufId: keyObject} map. */
function checkSignatures(fileBytes, keysById) {
  const doc = JSON.parse(fileBytes.toString('utf8'));
  const msg = Buffer.from(canonical(doc.signed), 'utf8');
  return doc.signatures.map((s) => {
    const k = keysById[s.keyid];
    let valid = null;
    let canonicalId = null;
    if (k) {
      const d = describeKey(k);
      assert(d.tufId === s.keyid, `key id ${s.keyid} does not match key content`);
      valid = verifySig(d.nodeKey, s.method, msg, s.sig);
      canonicalId = d.canonicalId;
    }
    return { keyid: s.keyid, canonicalId, method: s.method, valid };
  });
}

/** Split a Go tabwriter table into rows of cells using the header's column starts (in runes). */
function parseTable(stdout, headers) {
  const lines = stdout.split('\n');
  const hi = lines.findIndex((l) => l.startsWith(headers[0]) && headers.every((h) => l.includes(h)));
  if (hi < 0) return [];
  const header = Array.from(lines[hi]);
  const headerStr = lines[hi];
  const starts = headers.map((h) => Array.from(headerStr.slice(0, headerStr.indexOf(h))).length);
  assert(header.length > 0, 'header');
  const rows = [];
  for (const line of lines.slice(hi + 2)) {
    if (line.trim() === '') break;
    const runes = Array.from(line);
    rows.push(starts.map((s, i) => runes.slice(s, i + 1 < starts.length ? starts[i + 1] : undefined).join('').replace(/ +$/, '')));
  }
  return rows;
}

function parsePemHeaders(text) {
  const lines = text.split('\n');
  const headers = {};
  for (const l of lines.slice(1)) {
    if (l === '') break;
    const m = /^([^:]+): (.*)$/.exec(l);
    if (!m) break;
    headers[m[1]] = m[2];
  }
  return { type: /-----BEGIN (.*)-----/.exec(lines[0])?.[1], headers };
}

/** Canonical Notary key id of a PUBLIC KEY / CERTIFICATE PEM (headers allowed). */
function canonicalIdOfPem(pemText) {
  const { type } = parsePemHeaders(pemText);
  const body = pemText
    .split('\n')
    .filter((l) => l && !l.startsWith('-----') && !l.includes(':'))
    .join('');
  const der = Buffer.from(body, 'base64');
  let key;
  if (type === 'CERTIFICATE') key = new crypto.X509Certificate(der).publicKey;
  else key = crypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
  const t = key.asymmetricKeyType === 'rsa' ? 'rsa' : 'ecdsa';
  return keyIdOf(t, key.export({ type: 'spki', format: 'der' }).toString('base64'));
}

// ---------------------------------------------------------------------------------------------
// a vector set under construction

class VectorSet {
  constructor(name, { gun, tz = 'UTC', description, serverUrl, keepTmp }) {
    this.name = name;
    this.gun = gun;
    this.tz = tz;
    this.description = description;
    this.serverUrl = serverUrl;
    this.keepTmp = keepTmp;
    this.out = path.join(OUT, name);
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `notary-vectors-${name}-`));
    CURRENT_TMP.add(this.tmp);
    this.trustDir = path.join(this.tmp, 'trust_dir');
    this.work = path.join(this.tmp, 'work');
    fs.mkdirSync(this.work, { recursive: true });
    this.targetInputs = new Map(); // name -> { role, payload, custom, customRaw, addedWith }
    this.payloadCount = 0;
    this.listRoles = []; // extra `notary list --roles R` captures
    this.notes = [];
    this.steps = [];
    this.env = {
      PATH: process.env.PATH,
      HOME: this.tmp, // never read the developer's ~/.notary/config.json
      TZ: tz,
      NOTARY_ROOT_PASSPHRASE: PASSPHRASES.root,
      NOTARY_TARGETS_PASSPHRASE: PASSPHRASES.targets,
      NOTARY_SNAPSHOT_PASSPHRASE: PASSPHRASES.snapshot,
      NOTARY_DELEGATION_PASSPHRASE: PASSPHRASES.delegation,
    };
    fs.rmSync(this.out, { recursive: true, force: true });
    fs.mkdirSync(this.out, { recursive: true });
  }

  notary(args, opts = {}) {
    const full = ['-d', this.trustDir, '-s', this.serverUrl, ...args];
    const r = run('notary', full, { env: this.env, cwd: this.work, ...opts });
    if (!opts.quiet) this.steps.push(['notary', ...args].join(' '));
    return r;
  }

  openssl(args) {
    return run('openssl', args, { cwd: this.work, env: { ...process.env, TZ: 'UTC' } });
  }

  /** Create a payload file for a target (kept in payloads/ for verify tests). */
  payload(name, content) {
    const idx = String(++this.payloadCount).padStart(2, '0');
    const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'target';
    const rel = `payloads/${idx}-${safe}.bin`;
    writeFile(path.join(this.out, rel), content);
    return rel;
  }

  add(name, { role, content, customJson } = {}) {
    const rel = this.payload(name, content ?? `payload of target ${JSON.stringify(name)} in set ${this.name}\n`);
    const args = ['add', this.gun, name, path.join(this.out, rel)];
    if (role) args.splice(1, 0, '-r', role);
    const entry = { role: role || 'targets', payload: rel, addedWith: 'add' };
    if (customJson !== undefined) {
      const cf = path.join(this.work, `custom-${this.targetInputs.size}.json`);
      fs.writeFileSync(cf, customJson);
      args.push('--custom', cf);
      entry.customRaw = customJson;
      entry.custom = JSON.parse(customJson);
    }
    this.notary(args);
    const prev = this.targetInputs.get(name);
    if (prev) entry.otherInputs = [...(prev.otherInputs || []), { ...prev, otherInputs: undefined }];
    this.targetInputs.set(name, entry);
  }

  addhash(name, { size, sha256, role }) {
    const args = ['addhash', this.gun, name, String(size), '--sha256', sha256];
    if (role) args.splice(1, 0, '-r', role);
    this.notary(args);
    this.targetInputs.set(name, { role: role || 'targets', payload: null, addedWith: 'addhash', hashAlgorithms: ['sha256'] });
  }

  publish() {
    const r = this.notary(['publish', this.gun]);
    assert(r.stdout.includes('Successfully published'), `publish output: ${r.stdout}`);
  }

  async get(rel) {
    const res = await fetch(`${this.serverUrl}/v2/${this.gun}/_trust/tuf/${rel}`);
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, body };
  }

  // -------------------------------------------------------------------------------------------
  // finalisation: CLI captures, metadata download, cache comparison, keys, manifest

  async finish() {
    const cli = this.captureCli();
    const { files, roles, rootChain, cacheComparison } = await this.downloadMetadata();
    const keys = this.copyKeys(cli.keyList);
    const changelist = this.copyChangelist();
    if (changelist.length) cli.status = this.notary(['status', this.gun], { quiet: true }).stdout;
    const targets = this.collectTargets(cli);
    const delegations = this.collectDelegations(cli, roles);

    const generatedAt = new Date().toISOString();
    const ts = roles.find((r) => r.name === 'timestamp');
    const manifest = {
      set: this.name,
      description: this.description,
      gun: this.gun,
      generatedAt,
      clock: {
        note: 'Use an injectable clock set to generatedAt: the server-signed timestamp expires ~14 days after it.',
        timestampExpires: ts.expires,
      },
      notaryVersion: NOTARY_VERSION,
      signerTimeZone: this.tz,
      passphrases: PASSPHRASES,
      passphraseEnv: {
        NOTARY_ROOT_PASSPHRASE: PASSPHRASES.root,
        NOTARY_TARGETS_PASSPHRASE: PASSPHRASES.targets,
        NOTARY_SNAPSHOT_PASSPHRASE: PASSPHRASES.snapshot,
        NOTARY_DELEGATION_PASSPHRASE: PASSPHRASES.delegation,
      },
      files,
      roles,
      rootChain,
      targets,
      delegations,
      keys,
      changelist,
      cacheComparison,
      cli,
      steps: this.steps,
      notes: this.notes,
    };
    writeJson(path.join(this.out, 'manifest.json'), manifest);
    if (!this.keepTmp) fs.rmSync(this.tmp, { recursive: true, force: true });
    CURRENT_TMP.delete(this.tmp);
    return manifest;
  }

  captureCli() {
    const cli = { trustDir: this.trustDir, serverUrl: this.serverUrl };
    cli.list = this.notary(['list', this.gun], { quiet: true }).stdout;
    cli.delegationList = this.notary(['delegation', 'list', this.gun], { quiet: true }).stdout;
    cli.keyList = this.notary(['key', 'list'], { quiet: true }).stdout;
    const rows = parseTable(cli.list, ['NAME', 'DIGEST', 'SIZE (BYTES)', 'ROLE']);
    if (this.listRoles.length) {
      cli.listByRole = {};
      for (const r of this.listRoles) cli.listByRole[r] = this.notary(['list', this.gun, '--roles', r], { quiet: true }).stdout;
    }
    cli.lookups = {};
    for (const [name] of rows) cli.lookups[name] = this.notary(['lookup', this.gun, name], { quiet: true }).stdout;
    const pick = this.lookupTarget && cli.lookups[this.lookupTarget] !== undefined ? this.lookupTarget : rows[0]?.[0];
    cli.lookup = { target: pick, stdout: cli.lookups[pick] };
    const miss = this.notary(['lookup', this.gun, 'no/such/target'], { quiet: true, allowFail: true });
    cli.lookupMissing = { target: 'no/such/target', exitCode: miss.status, stdout: miss.stdout };
    return cli;
  }

  async downloadMetadata() {
    const metaDir = path.join(this.out, 'metadata');
    const cacheDir = path.join(this.trustDir, 'tuf', this.gun, 'metadata');
    const files = [];
    const bytes = {};
    const save = (rel, body) => {
      writeFile(path.join(metaDir, rel), body);
      files.push(`metadata/${rel}`);
      bytes[rel] = body;
    };
    const cacheComparison = {};
    const compare = (rel, body) => {
      const p = path.join(cacheDir, rel);
      if (!fs.existsSync(p)) cacheComparison[rel] = 'not in client cache';
      else cacheComparison[rel] = Buffer.compare(fs.readFileSync(p), body) === 0 ? 'identical' : 'DIFFERENT';
      if (cacheComparison[rel] === 'DIFFERENT') this.notes.push(`metadata/${rel} differs from the Go client's cached copy`);
    };

    const ts = await this.get('timestamp.json');
    assert(ts.status === 200, `timestamp.json: HTTP ${ts.status}`);
    save('timestamp.json', ts.body);
    compare('timestamp.json', ts.body);
    const tsDoc = JSON.parse(ts.body);
    const snapHex = b64ToHex(tsDoc.signed.meta.snapshot.hashes.sha256);

    const fetchRole = async (role, hex) => {
      const cur = await this.get(`${role}.json`);
      const byHash = await this.get(`${role}.${hex}.json`);
      assert(byHash.status === 200, `${role}.${hex}.json: HTTP ${byHash.status}`);
      assert(sha256hex(byHash.body) === hex, `${role}.${hex}.json content hash`);
      if (cur.status !== 200 || Buffer.compare(cur.body, byHash.body) !== 0) {
        this.notes.push(`GET ${role}.json (HTTP ${cur.status}) did not return the bytes referenced by hash; used ${role}.<sha256>.json`);
      }
      return byHash.body;
    };

    const snap = await fetchRole('snapshot', snapHex);
    save('snapshot.json', snap);
    compare('snapshot.json', snap);
    const snapDoc = JSON.parse(snap);
    for (const [role, meta] of Object.entries(snapDoc.signed.meta)) {
      const body = await fetchRole(role, b64ToHex(meta.hashes.sha256));
      assert(body.length === meta.length, `${role} length`);
      save(`${role}.json`, body);
      compare(`${role}.json`, body);
    }

    // root chain: every N.root.json
    const chainFiles = [];
    for (let v = 1; ; v++) {
      const r = await this.get(`${v}.root.json`);
      if (r.status === 404) break;
      assert(r.status === 200, `${v}.root.json: HTTP ${r.status}`);
      save(`${v}.root.json`, r.body);
      chainFiles.push({ v, body: r.body });
    }
    assert(chainFiles.length >= 1, 'no 1.root.json');
    assert(Buffer.compare(chainFiles.at(-1).body, bytes['root.json']) === 0, 'newest N.root.json equals root.json');

    // roles
    const rootDoc = JSON.parse(bytes['root.json']);
    const rootKeys = rootDoc.signed.keys;
    const roles = [];
    const describe = (ids, keyMap) =>
      (ids || []).map((id) => {
        const d = describeKey(keyMap[id]);
        assert(d.tufId === id, `key ${id} content`);
        const k = { keyid: id, keytype: d.keytype, canonicalId: d.canonicalId };
        if (d.certificate) k.certificate = d.certificate;
        return k;
      });
    const roleEntry = (name, rel, role, keyMap) => {
      const body = bytes[rel];
      const doc = JSON.parse(body);
      const sigs = checkSignatures(body, keyMap);
      for (const s of sigs) assert(s.valid !== false, `${rel}: invalid signature by ${s.keyid}`);
      const good = new Set(sigs.filter((x) => x.valid && (role.keyids || []).includes(x.keyid)).map((x) => x.keyid));
      assert(good.size >= role.threshold, `${rel}: threshold not met`);
      const e = {
        name,
        file: `metadata/${rel}`,
        version: doc.signed.version,
        expires: doc.signed.expires,
        sha256: sha256hex(body),
        length: body.length,
        threshold: role.threshold,
        keys: describe(role.keyids, keyMap),
        signatures: sigs,
      };
      if (role.paths !== undefined) e.paths = role.paths;
      return e;
    };
    for (const name of ['root', 'targets', 'snapshot', 'timestamp']) {
      roles.push(roleEntry(name, `${name}.json`, rootDoc.signed.roles[name], rootKeys));
    }
    // delegations, breadth first from targets
    const queue = ['targets'];
    while (queue.length) {
      const parent = queue.shift();
      const pdoc = JSON.parse(bytes[`${parent}.json`]);
      for (const d of pdoc.signed.delegations.roles || []) {
        if (!bytes[`${d.name}.json`]) {
          this.notes.push(`delegation ${d.name} is declared in ${parent} but has no metadata file (not in snapshot)`);
          continue;
        }
        roles.push({ parent, ...roleEntry(d.name, `${d.name}.json`, d, pdoc.signed.delegations.keys) });
        queue.push(d.name);
      }
    }

    // root chain
    const rootChain = [];
    let prev = null;
    for (const { v, body } of chainFiles) {
      const doc = JSON.parse(body);
      const sigs = checkSignatures(body, doc.signed.keys);
      const rootKeyIds = doc.signed.roles.root.keyids;
      const validSigners = sigs.filter((s) => s.valid).map((s) => s.keyid);
      const entry = {
        version: doc.signed.version,
        file: `metadata/${v}.root.json`,
        sha256: sha256hex(body),
        length: body.length,
        expires: doc.signed.expires,
        rootKeyIds,
        rootKeyCanonicalIds: rootKeyIds.map((id) => describeKey(doc.signed.keys[id]).canonicalId),
        keysInRoot: Object.keys(doc.signed.keys).length,
        signedBy: validSigners,
        signedByCanonical: sigs.filter((s) => s.valid).map((s) => s.canonicalId),
        signatures: sigs,
      };
      assert(doc.signed.version === v, `${v}.root.json has version ${doc.signed.version}`);
      assert(rootKeyIds.every((id) => validSigners.includes(id)), `${v}.root.json not signed by its own root keys`);
      if (prev) {
        entry.signedByPreviousRootKeys = prev.rootKeyIds.some((id) => validSigners.includes(id));
        entry.signedByVersion1RootKeys = rootChain[0].rootKeyIds.some((id) => validSigners.includes(id));
      }
      rootChain.push(entry);
      prev = entry;
    }
    return { files: files.sort(), roles, rootChain, cacheComparison };
  }

  copyKeys(keyListStdout) {
    const src = path.join(this.trustDir, 'private');
    const rows = parseTable(keyListStdout, ['ROLE', 'GUN', 'KEY ID', 'LOCATION']);
    const listed = new Map(rows.map(([role, gun, id]) => [id, { role, gun }]));
    const keys = [];
    for (const f of fs.readdirSync(src).sort()) {
      if (!f.endsWith('.key')) continue;
      const text = fs.readFileSync(path.join(src, f), 'utf8');
      const rel = `trust_dir/private/${f}`;
      writeFile(path.join(this.out, rel), text);
      const { type, headers } = parsePemHeaders(text);
      const id = f.slice(0, -4);
      const l = listed.get(id);
      assert(l, `key ${id} not in notary key list`);
      assert(l.role === headers.role, `key ${id}: role header ${headers.role} vs key list ${l.role}`);
      const k = { file: rel, canonicalId: id, role: headers.role, pemType: type, headers };
      if (headers.gun) k.gun = headers.gun;
      const alias = ['root', 'targets', 'snapshot'].includes(headers.role) ? headers.role : 'delegation';
      k.passphrase = PASSPHRASES[alias];
      keys.push(k);
    }
    return keys;
  }

  copyChangelist() {
    const src = path.join(this.trustDir, 'tuf', this.gun, 'changelist');
    if (!fs.existsSync(src)) return [];
    const out = [];
    for (const f of fs.readdirSync(src).sort()) {
      const rel = `trust_dir/tuf/${this.gun}/changelist/${f}`;
      const body = fs.readFileSync(path.join(src, f));
      writeFile(path.join(this.out, rel), body);
      const c = JSON.parse(body);
      out.push({ file: rel, action: c.action, role: c.role, type: c.type, path: c.path });
    }
    return out;
  }

  collectTargets(cli) {
    const rows = parseTable(cli.list, ['NAME', 'DIGEST', 'SIZE (BYTES)', 'ROLE']);
    const targets = [];
    for (const [name, digest, size, role] of rows) {
      const out = cli.lookups[name];
      const m = /^([\s\S]*) sha256:([0-9a-f]{64}) (\d+)\n$/.exec(out);
      assert(m && m[1] === name, `lookup output for ${JSON.stringify(name)}: ${JSON.stringify(out)}`);
      assert(m[2] === digest && m[3] === size, `list and lookup disagree for ${name}`);
      const input = this.targetInputs.get(name) || {};
      const t = { name, role, sha256: digest, length: Number(size) };
      if (input.custom !== undefined) {
        t.custom = input.custom;
        t.customRaw = input.customRaw;
      }
      if (input.payload) t.payload = input.payload;
      if (input.addedWith) t.addedWith = input.addedWith;
      if (input.hashAlgorithms) t.hashAlgorithms = input.hashAlgorithms;
      assert(!input.role || input.role === role, `${name}: added to ${input.role}, listed under ${role}`);
      // the same name signed by other roles (hidden in `notary list`; seen with `notary list --roles`)
      for (const other of input.otherInputs || []) {
        const rrows = parseTable(cli.listByRole?.[other.role] || '', ['NAME', 'DIGEST', 'SIZE (BYTES)', 'ROLE']);
        const rr = rrows.find((x) => x[0] === name && x[3] === other.role);
        assert(rr, `${name} not found in notary list --roles ${other.role}`);
        (t.alsoSignedBy ||= []).push({ role: other.role, sha256: rr[1], length: Number(rr[2]), payload: other.payload });
      }
      targets.push(t);
    }
    const listed = new Set(rows.map((r) => r[0]));
    for (const [name, input] of this.targetInputs) {
      if (!listed.has(name) && !input.unpublished) throw new Error(`target ${JSON.stringify(name)} missing from notary list`);
    }
    return targets;
  }

  collectDelegations(cli, roles) {
    const rows = parseTable(cli.delegationList, ['ROLE', 'PATHS', 'KEY IDS', 'THRESHOLD']);
    const out = [];
    let cur = null;
    for (const [role, p, key, threshold] of rows) {
      if (role) {
        cur = { name: role, paths: [], keyIds: [], threshold: Number(threshold) };
        out.push(cur);
      }
      if (p) cur.paths.push(p === '"" <all paths>' ? '' : p);
      if (key) cur.keyIds.push(key);
    }
    for (const d of out) {
      const r = roles.find((x) => x.name === d.name);
      if (r) {
        d.file = r.file;
        d.parent = r.parent;
        d.keyTypes = r.keys.map((k) => k.keytype);
        d.tufKeyIds = r.keys.map((k) => k.keyid);
        d.pathsInMetadata = r.paths ?? null;
        assert(
          [...d.keyIds].sort().join() === r.keys.map((k) => k.canonicalId).sort().join(),
          `delegation ${d.name}: CLI key ids differ from metadata canonical ids`,
        );
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// the sets

async function setBasic(ctx) {
  const s = new VectorSet('basic', {
    ...ctx,
    gun: 'example.com/vectors/basic',
    description:
      'init + publish; tricky target names (HTML-escaped <>&, U+2028/U+2029, DEL, non-ASCII, emoji, UTF-8 vs UTF-16 key order), ' +
      'custom data, addhash (sha256 only); client-signed snapshot; two unpublished changes left in the changelist.',
  });
  s.notary(['init', s.gun]);
  s.add('plain');
  s.add('dir/A<b>&c');
  s.add('line\u2028sep');
  s.add('para\u2029sep');
  s.add('del\u007fchar');
  s.add('café');
  s.add('emoji-🐳');
  s.add('\uFB01'); // ﬁ : sorts before 😀 in UTF-8 byte order, after it in UTF-16 order
  s.add('😀');
  s.add('withcustom', { customJson: '{"a":1,"b":{"c":[1,2],"d":"x"}}' });
  s.addhash('hashonly', { size: 1234, sha256: sha256hex(Buffer.from('content that was never uploaded\n')) });
  s.publish();
  s.lookupTarget = 'dir/A<b>&c';
  // unpublished changes: kept in trust_dir/tuf/<gun>/changelist
  s.add('staged/unpublished');
  s.targetInputs.get('staged/unpublished').unpublished = true;
  s.notary(['remove', s.gun, 'plain']);
  s.notes.push('trust_dir/tuf/<gun>/changelist holds two unpublished changes: add "staged/unpublished" and remove "plain".');
  return s.finish();
}

async function setDelegations(ctx) {
  const tz = fs.existsSync('/usr/share/zoneinfo/America/New_York') ? 'America/New_York' : 'UTC';
  const s = new VectorSet('delegations', {
    ...ctx,
    tz,
    gun: 'example.com/vectors/delegations',
    description:
      'delegations: targets/releases (all paths, ecdsa-x509 cert), targets/qa (paths qa/,shared/, ecdsa PUBLIC KEY from `notary key generate`), ' +
      'nested targets/qa/sub (ecdsa PUBLIC KEY from openssl), targets/rsa (rsa-x509 2048-bit cert, rsapss signatures), ' +
      'targets/nopaths (no paths, shares the releases key); shared/s is signed by both targets and targets/qa (targets wins). ' +
      `Client metadata signed with TZ=${tz} (expires carry a local offset).`,
  });
  if (tz === 'UTC') s.notes.push('tzdata missing: metadata signed in UTC instead of America/New_York');
  s.notary(['init', s.gun]);
  s.add('top');
  s.publish();

  const inputs = path.join(s.out, 'inputs');
  fs.mkdirSync(inputs, { recursive: true });
  // ECDSA P-256 key + self-signed cert (ecdsa-x509 delegation key)
  s.openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'releases-key.pem', '-out', 'releases.crt', '-days', '3650', '-subj', '/CN=targets-releases', '-sha256']);
  // RSA 2048 key (unencrypted PKCS#8 "PRIVATE KEY") + self-signed cert (rsa-x509 delegation key)
  s.openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rsa-key.pem', '-out', 'rsa.crt', '-days', '3650', '-subj', '/CN=targets-rsa', '-sha256']);
  // ECDSA PUBLIC KEY PEM from openssl
  s.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'sub-key.pem']);
  s.openssl(['pkey', '-in', 'sub-key.pem', '-pubout', '-out', 'sub.pub.pem']);
  // ECDSA key generated by notary itself: qa.pem (PUBLIC KEY with role header) + qa-key.pem (encrypted, no path header)
  s.notary(['key', 'generate', 'ecdsa', '--role', 'targets/qa', '-o', path.join(s.work, 'qa')]);
  for (const f of ['releases.crt', 'rsa.crt', 'sub.pub.pem']) fs.copyFileSync(path.join(s.work, f), path.join(inputs, f));
  fs.copyFileSync(path.join(s.work, 'qa.pem'), path.join(inputs, 'qa.pub.pem'));

  const w = (f) => path.join(s.work, f);
  const addDeleg = (role, pem, pathArgs) => {
    const r = s.notary(['delegation', 'add', s.gun, role, w(pem), ...pathArgs]);
    const m = /with keys \[([0-9a-f]{64})\]/.exec(r.stdout);
    assert(m && m[1] === canonicalIdOfPem(fs.readFileSync(w(pem), 'utf8')), `canonical id of ${pem}`);
    return m[1];
  };
  addDeleg('targets/releases', 'releases.crt', ['--all-paths']);
  const qaId = addDeleg('targets/qa', 'qa.pem', ['--paths', 'qa/,shared/']);
  addDeleg('targets/rsa', 'rsa.crt', ['--paths', 'rsa/']);
  addDeleg('targets/nopaths', 'releases.crt', []);

  // private keys: unencrypted PKCS#8 keys are encrypted by notary with the delegation passphrase;
  // an already encrypted key needs a `path: <canonical id>` PEM header.
  s.notary(['key', 'import', w('releases-key.pem'), '--role', 'targets/releases']);
  s.notary(['key', 'import', w('rsa-key.pem'), '--role', 'targets/rsa']);
  const qaKey = fs.readFileSync(w('qa-key.pem'), 'utf8').replace(/^(-----BEGIN [^\n]*-----\n)/, `$1path: ${qaId}\n`);
  fs.writeFileSync(w('qa-key-path.pem'), qaKey);
  s.notary(['key', 'import', w('qa-key-path.pem')]);
  s.notes.push('targets/qa key: `notary key generate -o` output cannot be imported as is (encrypted, no path header); a `path: <canonical id>` header was added before `notary key import`.');
  s.publish();

  s.notary(['key', 'import', w('sub-key.pem'), '--role', 'targets/qa/sub']);
  addDeleg('targets/qa/sub', 'sub.pub.pem', ['--paths', 'qa/sub/,shared/sub/']);
  s.add('rel/one', { role: 'targets/releases' });
  s.add('anything-goes', { role: 'targets/releases' });
  s.add('qa/x', { role: 'targets/qa' });
  s.add('shared/s', { role: 'targets/qa', content: 'shared/s as signed by targets/qa\n' });
  s.add('qa/sub/y', { role: 'targets/qa/sub' });
  s.add('shared/sub/z', { role: 'targets/qa/sub' });
  s.add('rsa/r', { role: 'targets/rsa' });
  s.add('shared/s', { content: 'shared/s as signed by targets\n' }); // top-level targets shadows targets/qa
  s.publish();
  s.lookupTarget = 'shared/s';
  s.listRoles = ['targets/releases', 'targets/qa', 'targets/qa/sub', 'targets/rsa'];
  s.notes.push('shared/s is in both targets.json and targets/qa.json with different content; list/lookup report the targets one (breadth-first, top level wins). payloads/ holds both versions.');
  return s.finish();
}

async function setServerSnapshot(ctx) {
  const s = new VectorSet('server-snapshot', {
    ...ctx,
    gun: 'example.com/vectors/server-snapshot',
    description:
      'init + publish, then `notary key rotate <gun> snapshot -r`: the server holds an ed25519 snapshot key and signs snapshots (eddsa); ' +
      'one more target published afterwards. The client snapshot key file is deleted by the rotation.',
  });
  s.notary(['init', s.gun]);
  s.add('before-rotation');
  s.publish();
  s.notary(['key', 'rotate', s.gun, 'snapshot', '-r']);
  s.add('after-rotation');
  s.publish();
  s.lookupTarget = 'after-rotation';
  s.notes.push('`key rotate snapshot -r` bumped root to v2 (ed25519 snapshot key, old ecdsa snapshot key dropped from root.keys) and deleted the client snapshot key file from private/.');
  return s.finish();
}

async function setRootRotation(ctx) {
  const s = new VectorSet('root-rotation', {
    ...ctx,
    gun: 'example.com/vectors/root-rotation',
    description:
      'five root versions from four `notary key rotate <gun> root` runs with publishes and targets in between. Each new root is signed by ' +
      'the previous root key and the new one only, so a client holding 1.root.json must walk 2..5.root.json.',
  });
  s.notary(['init', s.gun]);
  s.add('v1-target');
  s.publish();
  for (let i = 2; i <= 5; i++) {
    const r = s.notary(['key', 'rotate', s.gun, 'root'], { input: 'yes\n' });
    assert(r.stdout.includes('Successfully rotated root key'), r.stdout);
    s.add(`v${i}-target`);
    s.publish();
  }
  s.lookupTarget = 'v5-target';
  const m = await s.finish();
  assert(m.rootChain.length === 5, `expected 5 root versions, got ${m.rootChain.length}`);
  return m;
}

const SETS = { basic: setBasic, delegations: setDelegations, 'server-snapshot': setServerSnapshot, 'root-rotation': setRootRotation };

// ---------------------------------------------------------------------------------------------

let NOTARY_VERSION = null;
const CURRENT_TMP = new Set(); // work dirs of unfinished sets, left in place on failure for debugging

async function main() {
  const argv = process.argv.slice(2);
  let sets = ALL_SETS;
  const keepTmp = argv.includes('--keep-tmp');
  const si = argv.indexOf('--sets');
  if (si >= 0) sets = argv[si + 1].split(',').filter(Boolean);
  for (const n of sets) if (!SETS[n]) die(`unknown set ${n} (known: ${ALL_SETS.join(', ')})`);

  for (const tool of ['notary', 'notary-server', 'openssl']) {
    if (run('sh', ['-c', `command -v ${tool}`], { allowFail: true }).status !== 0) {
      die(`${tool} not found on PATH; run scripts/gen-vectors.sh (installs it) or apt-get install -y notary openssl`);
    }
  }
  const dpkg = run('dpkg-query', ['-W', '-f', '${Version}', 'notary'], { allowFail: true });
  NOTARY_VERSION = dpkg.status === 0 ? `notary ${dpkg.stdout.trim()} (Debian package)` : 'notary 0.7 (version unknown)';

  const t0 = Date.now();
  const server = await startNotaryServer({ env: { ...process.env, TZ: 'UTC' }, logLevel: 'warn' });
  console.error(`notary-server on ${server.url} (log ${server.logFile})`);
  const summary = [];
  try {
    for (const name of sets) {
      const t = Date.now();
      const m = await SETS[name]({ serverUrl: server.url, keepTmp });
      summary.push({
        set: name,
        gun: m.gun,
        roles: m.roles.map((r) => `${r.name}@v${r.version}`),
        rootVersions: m.rootChain.length,
        targets: m.targets.length,
        generatedAt: m.generatedAt,
      });
      console.error(`  ${name}: ${m.roles.length} role files, ${m.rootChain.length} root version(s), ${m.targets.length} targets, ${((Date.now() - t) / 1000).toFixed(1)} s`);
      for (const n of m.notes) console.error(`    note: ${n}`);
    }
  } finally {
    await server.stop();
  }
  // index of all sets currently present
  const index = { notaryVersion: NOTARY_VERSION, sets: {} };
  for (const d of fs.readdirSync(OUT).sort()) {
    const mf = path.join(OUT, d, 'manifest.json');
    if (!fs.existsSync(mf)) continue;
    const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
    index.sets[d] = { gun: m.gun, generatedAt: m.generatedAt, description: m.description };
  }
  writeJson(path.join(OUT, 'index.json'), index);
  console.error(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e?.stack || String(e));
  for (const d of CURRENT_TMP) console.error(`work dir kept for debugging: ${d}`);
  process.exit(1);
});
