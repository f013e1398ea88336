/**
 * The signing policy as tables: patterns, durations, rule order and defaults, and validation errors that
 * name the file, line and field (YAML and JSON alike).
 */
import { describe, expect, it } from 'vitest';
import { compileImagePattern } from '../src/policy/pattern.js';
import { parseDuration, parsePolicy, ruleFor } from '../src/policy/policy.js';

describe('image patterns', () => {
  it.each([
    ['registry.example.com/team/*', 'registry.example.com/team/app', 'v1', true],
    ['registry.example.com/team/*', 'registry.example.com/team/sub/app', 'v1', false],
    ['registry.example.com/team/**', 'registry.example.com/team/sub/app', 'v1', true],
    ['registry.example.com/**', 'registry.example.com/a', undefined, true],
    ['**', 'docker.io/library/alpine', 'latest', true],
    ['docker.io/library/alpine', 'docker.io/library/alpine', 'latest', true],
    ['docker.io/library/alpine', 'docker.io/library/alpine2', 'latest', false],
    ['docker.io/library/alpin?', 'docker.io/library/alpine', 'latest', true],
    ['localhost:5000/app', 'localhost:5000/app', 'v1', true],
    ['localhost:5000/app:v*', 'localhost:5000/app', 'v1.2', true],
    ['localhost:5000/app:v*', 'localhost:5000/app', 'latest', false],
    ['localhost:5000/app:v*', 'localhost:5000/app', undefined, false],
    ['localhost:5000/app:*', 'localhost:5000/app', undefined, true],
    ['registry.example.com/team/app:1.?', 'registry.example.com/team/app', '1.2', true],
    ['registry.example.com/team/app:1.?', 'registry.example.com/team/app', '1.23', false],
    ['a.b/c.d', 'a.b/cxd', 'v', false],
  ] as const)('%s matches %s:%s → %s', (pattern, name, tag, expected) => {
    expect(compileImagePattern(pattern).matches(name, tag)).toBe(expected);
  });

  it.each(['Registry/App', 'reg/app:has space', 'reg/app:tag/x', 'reg/(app)'])('refuses %j', (pattern) => {
    expect(() => compileImagePattern(pattern)).toThrow(expect.objectContaining({ code: 'POLICY_INVALID' }));
  });
});

describe('durations', () => {
  it.each([
    ['30s', 30_000],
    ['15m', 900_000],
    ['72h', 259_200_000],
    ['7d', 604_800_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['', undefined],
    ['5', undefined],
    ['1w', undefined],
    ['-1h', undefined],
  ] as const)('%j → %s', (text, ms) => expect(parseDuration(text)).toBe(ms));
});

const YAML_POLICY = `# a policy
version: 1
trustDir: ./trust
refresh: 1m
rules:
  - name: ci
    pattern: registry.example.com/team/**
    server: https://notary.example.com:4443
    signers: [ci, targets/qa]
    freshness: 24h
  - pattern: registry.example.com/legacy/*:*
    action: warn
  - pattern: docker.io/library/*
    signers: { anyOf: [alice, bob, carol], count: 2 }
    root: { keys: ["${'0'.repeat(64)}"] }
  - pattern: registry.example.com/blocked/**
    action: deny
default: deny
`;

describe('policy parsing', () => {
  it('reads rules in order with their fields, normalising role names', () => {
    const p = parsePolicy(YAML_POLICY, 'gate.yaml');
    expect(p.rules.map((r) => r.name)).toEqual(['ci', 'registry.example.com/legacy/*:*', 'docker.io/library/*', 'registry.example.com/blocked/**']);
    expect(p.rules[0]).toMatchObject({ action: 'enforce', server: 'https://notary.example.com:4443', signers: { allOf: ['targets/ci', 'targets/qa'] }, freshnessMs: 86_400_000, source: 'gate.yaml:6' });
    expect(p.rules[2]!.signers).toEqual({ anyOf: ['targets/alice', 'targets/bob', 'targets/carol'], count: 2 });
    expect(p.rules[2]!.root).toEqual({ kind: 'keys', keys: ['0'.repeat(64)] });
    expect(p.rules[1]!.root).toEqual({ kind: 'tofu' });
    expect(p.default).toMatchObject({ name: 'default', action: 'deny' });
    expect(p.refreshMs).toBe(60_000);
    expect(p.trustDir).toBe('./trust');
  });

  it('first match wins; nothing matching falls to the default', () => {
    const p = parsePolicy(YAML_POLICY, 'gate.yaml');
    expect(ruleFor(p, 'registry.example.com/team/app', 'v1').name).toBe('ci');
    expect(ruleFor(p, 'registry.example.com/legacy/x', 'v1').action).toBe('warn');
    expect(ruleFor(p, 'registry.example.com/blocked/x', 'v1').action).toBe('deny');
    expect(ruleFor(p, 'quay.io/x/y', 'v1').name).toBe('default');
  });

  it('reads the same policy written as JSON', () => {
    const json = JSON.stringify({ rules: [{ pattern: 'a.b/c', signers: ['ci'] }], default: { action: 'enforce' } }, null, 2);
    const p = parsePolicy(json, 'gate.json');
    expect(p.rules[0]!.signers).toEqual({ allOf: ['targets/ci'] });
    expect(p.default).toMatchObject({ action: 'enforce', name: 'default' });
  });

  it('the default is deny when none is written, and an empty document is a deny-all policy', () => {
    expect(parsePolicy('rules: []\n').default.action).toBe('deny');
    expect(parsePolicy('').default.action).toBe('deny');
  });

  it.each([
    ['an unknown field', 'rules:\n  - pattern: a/b\n    signer: [ci]\n', 'gate.yaml:3: rules[0].signer: unknown field signer'],
    ['a bad action', 'rules:\n  - pattern: a/b\n    action: maybe\n', 'gate.yaml:3: rules[0].action:'],
    ['a bad duration', 'rules:\n  - pattern: a/b\n    freshness: soon\n', 'gate.yaml:3: rules[0].freshness: expected a duration'],
    ['a count above the list', 'rules:\n  - pattern: a/b\n    signers: { anyOf: [a], count: 2 }\n', 'gate.yaml:3: rules[0].signers'],
    ['a bad pattern', 'rules:\n  - pattern: A/B\n', 'gate.yaml:2: rules[0].pattern: invalid image pattern'],
    ['a missing pattern', 'rules:\n  - action: deny\n', 'gate.yaml:2: rules[0].pattern:'],
    ['a bad server URL', 'rules:\n  - pattern: a/b\n    server: notary:4443\n', 'gate.yaml:3: rules[0].server: expected an https://'],
    ['duplicate keys', 'rules: []\nrules: []\n', 'gate.yaml:2:'],
    ['YAML syntax', 'rules: [\n', 'gate.yaml:'],
    ['a bad pinned key ID', 'rules:\n  - pattern: a/b\n    root: { pinning: { certs: { a/b: [xyz] } } }\n', 'gate.yaml:3: rules[0].root'],
    ['a bad role name', 'rules:\n  - pattern: a/b\n    signers: ["/ci"]\n', 'gate.yaml:3: rules[0].signers[0]: expected a delegation role name'],
    ['a wrong version', 'version: 2\n', 'gate.yaml:1: version:'],
  ])('%s: a POLICY_INVALID error naming file, line and field', (_what, text, message) => {
    let err: unknown;
    try {
      parsePolicy(text, 'gate.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'POLICY_INVALID' });
    expect((err as Error).message.startsWith(message)).toBe(true);
  });

  it('JSON errors carry line numbers too', () => {
    const text = '{\n  "rules": [\n    { "pattern": "a/b",\n      "action": "nope" }\n  ]\n}\n';
    expect(() => parsePolicy(text, 'gate.json')).toThrow(/^gate\.json:4: rules\[0\]\.action:/);
  });
});

describe('the shipped examples', () => {
  it('examples/kubernetes/policy.yaml and the ConfigMap policy in deployment.yaml are valid policies', async () => {
    const { readFileSync } = await import('node:fs');
    const { parseAllDocuments } = await import('yaml');
    const full = parsePolicy(readFileSync('examples/kubernetes/policy.yaml', 'utf8'), 'policy.yaml');
    expect(full.rules.map((r) => r.action)).toEqual(['enforce', 'enforce', 'warn', 'allow']);
    expect(full.default.action).toBe('deny');
    const docs = parseAllDocuments(readFileSync('examples/kubernetes/deployment.yaml', 'utf8')).map((d) => d.toJS());
    const configMap = docs.find((d) => d?.kind === 'ConfigMap');
    expect(parsePolicy(configMap.data['policy.yaml'], 'configmap').rules[0]!.signers).toEqual({ allOf: ['targets/ci', 'targets/qa'] });
  });
});
