/**
 * Applying changes with Notary's semantics: a table of small collections (each rule and error of
 * tuf.Repo), and a differential run against the Go client (the same staged changelist published by
 * `notary publish` and applied by us to the same starting repository must give the same signed objects).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRootSigned, newTargetsSigned, setDelegation, fileMetaOf, setTarget } from '../src/core/build.js';
import { toBase64, utf8Encode } from '../src/core/bytes.js';
import { NotaryError } from '../src/core/errors.js';
import { generateSigningKey, rootCertificateKey, type SigningKey } from '../src/core/init.js';
import { canonicalKeyId } from '../src/core/keys.js';
import { Metadata, type KeyJson, type TargetsSigned } from '../src/core/metadata.js';
import { decodePem } from '../src/core/pem.js';
import { nodeCryptoBackend as crypto } from '../src/crypto/node.js';
import { applyChange, applyChanges, type ApplyOptions, type EditableCollection } from '../src/repository/apply.js';
import {
  FileChangelist,
  delegationChange,
  delegationDeleteChange,
  delegationPurgeChange,
  rootRoleChange,
  targetCreateChange,
  targetDeleteChange,
  witnessChange,
  type Change,
} from '../src/repository/changelist.js';
import { goNotary, makeGoRepository, startServer, tempDir, type GoRepository, type Server } from './support/go-repo.js';

const now = new Date('2025-06-01T12:00:00Z');
const meta = (text: string) => fileMetaOf(utf8Encode(text), crypto);

// ---------------------------------------------------------------------------------------------------
// Small collections

interface Fixture {
  col: EditableCollection;
  targetsKey: SigningKey;
  a: SigningKey; // key of targets/a
  b: SigningKey; // key of targets/a/b
  cert: KeyJson; // an x509 key (canonical ID ≠ TUF ID), also on targets/a
}

/** targets → targets/a (paths a/, shared/; keys a + cert) → targets/a/b (paths a/b/, z/; key b). */
function fixture(): Fixture {
  const targetsKey = generateSigningKey(crypto);
  const a = generateSigningKey(crypto);
  const b = generateSigningKey(crypto);
  const cert = rootCertificateKey(crypto.generateKey('ecdsa'), 'cert', now, crypto);
  const root = newRootSigned({
    keys: { [targetsKey.keyId]: targetsKey.publicKey },
    roles: { root: { keyids: [] }, targets: { keyids: [targetsKey.keyId] }, snapshot: { keyids: [] }, timestamp: { keyids: [] } },
    now,
  });
  const targets = newTargetsSigned(now, 3);
  setTarget(targets, 'top', meta('top'));
  setDelegation(targets, 'targets', { name: 'targets/a', keys: [a.publicKey, cert], paths: ['a/', 'shared/'] }, crypto);
  const ta = newTargetsSigned(now, 2);
  setTarget(ta, 'a/one', meta('one'));
  setDelegation(ta, 'targets/a', { name: 'targets/a/b', keys: [b.publicKey], paths: ['a/b/', 'z/'] }, crypto);
  const roles = new Map<string, TargetsSigned>([
    ['targets', targets],
    ['targets/a', ta],
  ]);
  return { col: { gun: 'example.com/apply', root, roles, dirty: new Set(), invalid: new Map() }, targetsKey, a, b, cert };
}

function errorOf(fn: () => void): NotaryError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NotaryError);
    return err as NotaryError;
  }
  throw new Error('expected an error');
}

const roleOf = (col: EditableCollection, parent: string, name: string) =>
  col.roles.get(parent)!.delegations!.roles!.find((r) => r.name === name);

interface Case {
  readonly name: string;
  readonly changes: (f: Fixture) => Change[];
  readonly options?: (f: Fixture) => ApplyOptions;
  /** Either checks on the collection, or Notary's error. */
  readonly expect?: (f: Fixture) => void;
  readonly error?: { code: string; message: string | ((f: Fixture) => string) };
  readonly dirty?: string[];
}

const cases: Case[] = [
  {
    name: 'adds a target to targets',
    changes: () => [targetCreateChange('targets', 'new', meta('new'))],
    expect: ({ col }) => expect(col.roles.get('targets')!.targets!['new']).toEqual(meta('new')),
    dirty: ['targets'],
  },
  {
    name: 'adding an identical target changes nothing (FileMeta.Equals)',
    changes: () => [targetCreateChange('targets', 'top', meta('top'))],
    dirty: [],
  },
  {
    name: 'keeps custom data',
    changes: () => [targetCreateChange('targets', 'c', meta('c'), { customJson: '{"b": [1, {"x": "<&>"}], "a": null}' })],
    expect: ({ col }) => expect(col.roles.get('targets')!.targets!['c']!.custom).toEqual({ b: [1, { x: '<&>' }], a: null }),
    dirty: ['targets'],
  },
  {
    name: 'creates the metadata of a delegation that has none yet (version 0, re-signed to 1)',
    changes: () => [targetCreateChange('targets/a/b', 'a/b/x', meta('x'))],
    expect: ({ col }) => {
      const tb = col.roles.get('targets/a/b')!;
      expect(tb.version).toBe(0);
      expect(tb.targets).toEqual({ 'a/b/x': meta('x') });
      expect(tb.delegations).toEqual({ keys: {}, roles: [] });
    },
    dirty: ['targets/a/b'],
  },
  {
    name: 'refuses a target outside the delegation paths',
    changes: () => [targetCreateChange('targets/a', 'b/x', meta('x'))],
    error: { code: 'PATH_NOT_ALLOWED', message: 'Could not add all targets' },
  },
  {
    name: "restricts a child's paths to its parent's (z/ is not under a/ or shared/)",
    changes: () => [targetCreateChange('targets/a/b', 'z/x', meta('x'))],
    error: { code: 'PATH_NOT_ALLOWED', message: 'Could not add all targets' },
  },
  {
    name: 'refuses targets for an unknown delegation',
    changes: () => [targetCreateChange('targets/nope', 'x', meta('x'))],
    error: { code: 'ROLE_NOT_FOUND', message: 'tuf: invalid role targets/nope. delegation does not exist' },
  },
  {
    name: 'refuses targets for a wildcard role',
    changes: () => [{ ...targetCreateChange('targets', 'x', meta('x')), scope: 'targets/*' }],
    error: { code: 'ROLE_NOT_FOUND', message: 'tuf: invalid role targets/*. does not exist' },
  },
  {
    name: 'needs a signing key for the role (VerifyCanSign)',
    changes: () => [targetCreateChange('targets/a', 'a/x', meta('x'))],
    options: () => ({ canSign: () => false }),
    error: {
      code: 'KEY_NOT_FOUND',
      message: (f) =>
        'could not find necessary signing keys, at least one of these keys must be available: ' +
        [f.a.canonicalId, canonicalKeyId(f.cert, crypto)].join(', '),
    },
  },
  {
    name: 'adding an identical target needs no signing key',
    changes: () => [targetCreateChange('targets/a', 'a/one', meta('one'))],
    options: () => ({ canSign: () => false }),
    dirty: [],
  },
  {
    name: 'removes a target; removing an absent one or from a role without metadata is a no-op',
    changes: () => [targetDeleteChange('targets', 'top'), targetDeleteChange('targets/a', 'a/none'), targetDeleteChange('targets/a/b', 'a/b/x')],
    expect: ({ col }) => {
      expect(col.roles.get('targets')!.targets).toEqual({});
      expect(col.roles.has('targets/a/b')).toBe(false);
    },
    dirty: ['targets'],
  },
  {
    name: 'creates a delegation as `delegation add` stages it (keys, then paths), appended in order',
    changes: (f) => [
      delegationChange('create', 'targets/c', { threshold: 1, addKeys: [f.b.publicKey] }),
      delegationChange('create', 'targets/c', { addPaths: ['c/', 'c/', ''] }),
    ],
    expect: ({ col, b }) => {
      const t = col.roles.get('targets')!;
      expect(t.delegations!.roles!.map((r) => r.name)).toEqual(['targets/a', 'targets/c']);
      // Go's mergeStrSlices keeps duplicates within one addition.
      expect(roleOf(col, 'targets', 'targets/c')).toEqual({ keyids: [b.keyId], name: 'targets/c', paths: ['c/', 'c/', ''], threshold: 1 });
      expect(t.delegations!.keys![b.keyId]).toEqual(b.publicKey);
      expect(col.roles.has('targets/c')).toBe(false);
    },
    dirty: ['targets'],
  },
  {
    name: 'a new delegation without keys needs a threshold (paths-only create of an unknown role)',
    changes: () => [delegationChange('create', 'targets/c', { addPaths: ['c/'] })],
    error: { code: 'INVALID_DELEGATION', message: 'tuf: invalid role targets/c.' },
  },
  {
    name: 'creates the parent metadata for a nested delegation',
    changes: (f) => [delegationChange('create', 'targets/a/b/c', { threshold: 1, addKeys: [f.a.publicKey] })],
    expect: ({ col, a }) => {
      expect(col.roles.get('targets/a/b')!.version).toBe(0);
      expect(roleOf(col, 'targets/a/b', 'targets/a/b/c')).toEqual({ keyids: [a.keyId], name: 'targets/a/b/c', threshold: 1 });
    },
    dirty: ['targets/a/b'],
  },
  {
    name: "refuses delegation paths outside the parent's",
    changes: (f) => [
      delegationChange('create', 'targets/a/c', { threshold: 1, addKeys: [f.a.publicKey] }),
      delegationChange('create', 'targets/a/c', { addPaths: ['a/c/', 'elsewhere/'] }),
    ],
    error: { code: 'PATH_NOT_ALLOWED', message: 'tuf: invalid role targets/a/c. invalid paths to add to role' },
  },
  {
    name: 'removes keys by canonical ID (x509: not the TUF ID), pruning unused keys; keyids null when empty',
    changes: (f) => [
      delegationChange('update', 'targets/a', { removeKeys: [canonicalKeyId(f.cert, crypto)] }),
      delegationChange('update', 'targets/a', { removeKeys: [f.a.canonicalId, 'unknown'] }),
    ],
    expect: ({ col }) => {
      expect(roleOf(col, 'targets', 'targets/a')).toEqual({ keyids: null, name: 'targets/a', paths: ['a/', 'shared/'], threshold: 1 });
      expect(col.roles.get('targets')!.delegations!.keys).toEqual({});
    },
    dirty: ['targets'],
  },
  {
    name: 'edits paths (remove, clear, add) and keeps the threshold of an existing role',
    changes: () => [
      delegationChange('update', 'targets/a', { removePaths: ['shared/'], threshold: 5 }),
      delegationChange('create', 'targets/a', { addPaths: ['a/', 'n/'] }),
    ],
    expect: ({ col }) => expect(roleOf(col, 'targets', 'targets/a')).toMatchObject({ paths: ['a/', 'n/'], threshold: 1 }),
    dirty: ['targets'],
  },
  {
    name: 'clearing all paths omits `paths`',
    changes: () => [delegationChange('update', 'targets/a', { clearPaths: true })],
    expect: ({ col }) => expect(roleOf(col, 'targets', 'targets/a')).not.toHaveProperty('paths'),
    dirty: ['targets'],
  },
  {
    name: 'updating an unknown delegation fails',
    changes: () => [delegationChange('update', 'targets/zz', { removePaths: ['x'] })],
    error: { code: 'ROLE_NOT_FOUND', message: 'tuf: invalid role targets/zz. delegation does not exist' },
  },
  {
    name: 'deletes a delegation and its metadata, not its subtree; unused keys go',
    changes: () => [delegationDeleteChange('targets/a')],
    expect: ({ col }) => {
      const t = col.roles.get('targets')!;
      expect(t.delegations).toEqual({ keys: {}, roles: [] });
      expect(col.roles.has('targets/a')).toBe(false);
    },
    dirty: ['targets', 'targets/a'],
  },
  {
    name: 'deleting an unknown delegation is a no-op for its parent',
    changes: () => [delegationDeleteChange('targets/a/zz')],
    dirty: ['targets/a/zz'],
  },
  {
    name: 'purges keys by canonical ID from every delegation (targets/*)',
    changes: (f) => [delegationPurgeChange([f.b.canonicalId, canonicalKeyId(f.cert, crypto)])],
    expect: ({ col, a }) => {
      expect(roleOf(col, 'targets', 'targets/a')!.keyids).toEqual([a.keyId]);
      expect(roleOf(col, 'targets/a', 'targets/a/b')!.keyids).toBeNull();
      expect(Object.keys(col.roles.get('targets')!.delegations!.keys!)).toEqual([a.keyId]);
      expect(col.roles.get('targets/a')!.delegations!.keys).toEqual({});
    },
    dirty: ['targets', 'targets/a'],
  },
  {
    name: 'purge skips roles it cannot re-sign, with a warning',
    changes: (f) => [delegationPurgeChange([f.b.canonicalId])],
    options: () => ({ canSign: (role) => role !== 'targets/a' }),
    expect: ({ col, b }) => expect(roleOf(col, 'targets/a', 'targets/a/b')!.keyids).toEqual([b.keyId]),
    dirty: [],
  },
  {
    name: 'witness marks a loaded role dirty',
    changes: () => [witnessChange('targets'), witnessChange('targets/a')],
    dirty: ['targets', 'targets/a'],
  },
  {
    name: 'witness restores a role skipped as invalid',
    changes: () => [witnessChange('targets/a/b')],
    expect: ({ col }) => {
      expect(col.roles.get('targets/a/b')!.version).toBe(7);
      expect(col.invalid.size).toBe(0);
    },
    dirty: ['targets/a/b'],
  },
  {
    name: 'witness of a role without metadata',
    changes: () => [witnessChange('targets/a/zz')],
    error: { code: 'ROLE_NOT_FOUND', message: 'tuf: invalid role targets/a/zz. this role is not known' },
  },
  {
    name: 'scopes outside targets and root are not supported (invalid names included)',
    changes: () => [witnessChange('targets/NoUpper')],
    error: { code: 'INVALID_ARGUMENT', message: 'scope not supported: targets/NoUpper' },
  },
  {
    name: 'witness of snapshot',
    changes: () => [witnessChange('snapshot')],
    error: { code: 'INVALID_ARGUMENT', message: 'scope not supported: snapshot' },
  },
  {
    name: 'witness of root',
    changes: () => [witnessChange('root')],
    error: { code: 'INVALID_ARGUMENT', message: 'type of root change not yet supported: witness' },
  },
  {
    name: 'unknown change types and actions',
    changes: () => [{ ...witnessChange('targets'), type: 'role' }],
    error: { code: 'INVALID_ARGUMENT', message: 'only target meta and delegations changes supported' },
  },
  {
    name: 'target update is not an action',
    changes: () => [{ ...targetCreateChange('targets', 'x', meta('x')), action: 'update' }],
    error: { code: 'INVALID_ARGUMENT', message: 'action not yet supported: update' },
  },
  {
    name: 'malformed payloads fail as JSON errors',
    changes: () => [{ ...targetCreateChange('targets', 'x', meta('x')), data: null }],
    error: { code: 'MALFORMED_JSON', message: 'change create target targets x: unexpected end of JSON input' },
  },
  {
    name: 'root role change replaces a base role’s keys (key rotation), dropping the unused old key',
    changes: (f) => [rootRoleChange('targets', [f.b.publicKey])],
    expect: ({ col, b, targetsKey }) => {
      expect(col.root.roles!['targets']!.keyids).toEqual([b.keyId]);
      expect(col.root.keys![b.keyId]).toEqual(b.publicKey);
      expect(col.root.keys![targetsKey.keyId]).toBeUndefined();
    },
    dirty: ['root', 'targets'],
  },
  {
    name: 'the first failing change aborts the rest',
    changes: () => [targetCreateChange('targets/a', 'b/x', meta('x')), targetCreateChange('targets', 'later', meta('l'))],
    error: { code: 'PATH_NOT_ALLOWED', message: 'Could not add all targets' },
    expect: ({ col }) => expect(col.roles.get('targets')!.targets!['later']).toBeUndefined(),
  },
];

describe('applyChanges: Notary semantics on small collections', () => {
  for (const c of cases) {
    it(c.name, () => {
      const f = fixture();
      // An invalid (skipped) targets/a/b metadata, for the witness cases.
      const skipped = newTargetsSigned(now, 7);
      f.col.invalid.set('targets/a/b', skipped);
      const options = c.options?.(f) ?? {};
      if (c.error) {
        const err = errorOf(() => applyChanges(f.col, c.changes(f), crypto, now, options));
        expect(err.code).toBe(c.error.code);
        expect(err.message).toBe(typeof c.error.message === 'string' ? c.error.message : c.error.message(f));
      } else {
        applyChanges(f.col, c.changes(f), crypto, now, options);
      }
      c.expect?.(f);
      if (c.dirty) expect([...f.col.dirty].sort()).toEqual([...c.dirty].sort());
    });
  }

  it('witness refuses a role whose threshold exceeds its keys', () => {
    const f = fixture();
    roleOf(f.col, 'targets/a', 'targets/a/b')!.threshold = 2;
    f.col.invalid.set('targets/a/b', newTargetsSigned(now));
    const err = errorOf(() => applyChange(f.col, witnessChange('targets/a/b'), crypto, now));
    expect(err.message).toBe('tuf: invalid role targets/a/b. role does not specify enough valid signing keys to meet its required threshold');
  });

  it('warns when a role has fewer keys than its threshold (twice, as Go: once per key and path step)', () => {
    const f = fixture();
    const warnings: string[] = [];
    applyChange(f.col, delegationChange('update', 'targets/a/b', { removeKeys: [f.b.canonicalId] }), crypto, now, { warn: (m) => warnings.push(m) });
    expect(warnings).toEqual(Array(2).fill('role targets/a/b has fewer keys than its threshold of 1; it will not be usable until keys are added to it'));
  });
});

// ---------------------------------------------------------------------------------------------------
// Differential: the Go client publishes a staged changelist; we apply the same one to the same start.

function withoutVersion(signed: TargetsSigned): unknown {
  const { version: _v, expires: _e, ...rest } = signed as TargetsSigned & Record<string, unknown>;
  return JSON.parse(JSON.stringify(rest));
}

function readCollection(trustDir: string, gun: string): EditableCollection {
  const dir = join(trustDir, 'tuf', ...gun.split('/'), 'metadata');
  const read = (role: string) => Metadata.fromBytes(new Uint8Array(readFileSync(join(dir, `${role}.json`))), role);
  const root = read('root').signed;
  const roles = new Map<string, TargetsSigned>();
  const queue = ['targets'];
  while (queue.length > 0) {
    const role = queue.shift()!;
    if (!existsSync(join(dir, `${role}.json`))) continue;
    const signed = read(role).signed as TargetsSigned;
    roles.set(role, signed);
    for (const r of signed.delegations?.roles ?? []) queue.push(r.name);
  }
  return { gun, root: root as EditableCollection['root'], roles, dirty: new Set(), invalid: new Map() };
}

describe('applyChanges against `notary publish`', () => {
  let server: Server;
  let repo: GoRepository;
  let work: string;
  const gun = 'example.com/apply-diff';
  const g = (args: string[]) => goNotary(['-s', server.url, '-d', repo.trustDir, ...args]);

  beforeAll(async () => {
    server = await startServer();
    repo = makeGoRepository(server, gun);
    work = tempDir('apply-diff-');
    const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: 'pipe' });
    for (const name of ['sub', 'new', 'extra']) {
      openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}-key.pem`]);
      openssl(['pkey', '-in', `${name}-key.pem`, '-pubout', '-out', `${name}.pub.pem`]);
    }
    writeFileSync(join(work, 'payload'), 'new payload\n');
    writeFileSync(join(work, 'custom.json'), '{"a": "x", "k": [1, {"b": 2}]}');
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('gives the signed objects Go publishes (targets and every delegation, minus version and expiry)', async () => {
    const pub = (name: string): KeyJson => ({
      keytype: 'ecdsa',
      keyval: { private: null, public: toBase64(decodePem(readFileSync(join(work, `${name}.pub.pem`), 'utf8'))[0]!.bytes) },
    });
    const extraCanonical = canonicalKeyId(pub('extra'), crypto);
    const payload = join(work, 'payload');
    g(['list', gun]); // the cache then holds every role as published (our starting point)
    g(['key', 'import', join(work, 'sub-key.pem'), '--role', 'targets/qa/sub']);
    g(['add', gun, 'new/top', payload, '--custom', join(work, 'custom.json')]);
    g(['add', gun, 'qa/new', payload, '-r', 'targets/qa']);
    g(['remove', gun, 'plain']);
    g(['remove', gun, 'rel/one', '-r', 'targets/releases']);
    g(['delegation', 'add', gun, 'targets/new', join(work, 'new.pub.pem'), '--paths', 'new/,other/']);
    g(['delegation', 'add', gun, 'targets/qa/sub', join(work, 'sub.pub.pem'), '--paths', 'qa/sub/']);
    g(['add', gun, 'qa/sub/t', payload, '-r', 'targets/qa/sub']);
    g(['delegation', 'remove', gun, 'targets/new', '--paths', 'other/']);
    g(['delegation', 'add', gun, 'targets/releases', join(work, 'extra.pub.pem')]);
    g(['delegation', 'purge', gun, '--key', extraCanonical]);
    g(['witness', gun, 'targets/releases']);
    g(['delegation', 'remove', gun, 'targets/new', canonicalKeyId(pub('new'), crypto)]); // its only key: keyids null

    const before = readCollection(repo.trustDir, gun);
    const changes = (await new FileChangelist(repo.trustDir, gun).list()).map((s) => s.change);
    expect(changes).toHaveLength(14);
    applyChanges(before, changes, crypto, new Date());

    g(['publish', gun]);
    g(['list', gun]); // refreshes the cache with what was published (targets/qa/sub included)
    const after = readCollection(repo.trustDir, gun);

    expect([...before.roles.keys()].sort()).toEqual([...after.roles.keys()].sort());
    expect([...before.roles.keys()].sort()).toEqual(['targets', 'targets/qa', 'targets/qa/sub', 'targets/releases']);
    for (const [role, ours] of before.roles) {
      const go = after.roles.get(role)!;
      expect(withoutVersion(ours), role).toEqual(withoutVersion(go));
      // Dirty roles were re-signed (version + 1); the others are untouched.
      expect(go.version, role).toBe(ours.version + (before.dirty.has(role) ? 1 : 0));
    }
    expect([...before.dirty].sort()).toEqual(['targets', 'targets/qa', 'targets/qa/sub', 'targets/releases']);
    const newRole = after.roles.get('targets')!.delegations!.roles!.find((r) => r.name === 'targets/new');
    expect(newRole).toEqual({ keyids: null, name: 'targets/new', paths: ['new/'], threshold: 1 });
  });

  it('fails where `notary publish` fails, with its message', async () => {
    const payload = join(work, 'payload');
    const attempts: { stage: string[]; message: string }[] = [
      { stage: ['add', gun, 'outside/x', payload, '-r', 'targets/qa'], message: 'Could not add all targets' },
      { stage: ['witness', gun, 'targets/nothere'], message: 'tuf: invalid role targets/nothere. this role is not known' },
      { stage: ['delegation', 'add', gun, 'targets/ghost', '--paths', 'g/'], message: 'tuf: invalid role targets/ghost.' },
      { stage: ['delegation', 'remove', gun, 'targets/ghost', '--paths', 'g/'], message: 'tuf: invalid role targets/ghost. delegation does not exist' },
      { stage: ['add', gun, 'x', payload, '-r', 'targets/ghost'], message: 'tuf: invalid role targets/ghost. delegation does not exist' },
    ];
    for (const { stage, message } of attempts) {
      g(['reset', gun, '--all']);
      g(stage);
      const changes = (await new FileChangelist(repo.trustDir, gun).list()).map((s) => s.change);
      let goOut = '';
      try {
        g(['publish', gun]);
      } catch (err) {
        goOut = (err as Error).message;
      }
      expect(goOut, stage.join(' ')).toContain(`* fatal: ${message}\n`);
      const col = readCollection(repo.trustDir, gun);
      const err = errorOf(() => applyChanges(col, changes, crypto, new Date()));
      expect(err.message, stage.join(' ')).toBe(message);
    }
    g(['reset', gun, '--all']);
  });
});
