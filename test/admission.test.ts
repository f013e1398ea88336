/**
 * The admission webhook as Kubernetes uses it: the built bin (`notary-ts admission serve`) in its own
 * process over real HTTPS, real AdmissionReview documents for each workload kind, mutating and validating,
 * allow / deny / warn, malformed bodies (a clear 400, never a crash), a stalled trust server (denied within
 * the deadline: fail closed), health and metrics, the audit log, hot reload (a bad policy keeps the old one),
 * a concurrent load run, and graceful shutdown. Trust data: repositories the real Go notary made.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGateRepos, type GateRepos } from './support/gate-repos.js';

const BIN = resolve('dist', 'cli', 'main.js');
let repos: GateRepos;
let hook: { child: ChildProcess; url: string; stderr: () => string; exit: Promise<number | null> };
let ca: Buffer;
let policyFile: string;
let auditFile: string;
let stall: Server;
const stalled: Socket[] = [];
let agent: Agent;

function policyText(extra = ''): string {
  const trustDir = join(repos.work, 'hook-trust');
  return [
    `trustDir: ${trustDir}`,
    'rules:',
    `  - name: stalled`,
    `    pattern: registry.test/stall/*`,
    `    server: http://127.0.0.1:${(stall.address() as { port: number }).port}`,
    `  - name: legacy`,
    `    pattern: registry.test/team/plain`,
    `    server: ${repos.server.url}`,
    `    action: warn`,
    `    signers: [ci]`,
    `  - name: team`,
    `    pattern: registry.test/team/*`,
    `    server: ${repos.server.url}`,
    `    signers: [ci]`,
    extra,
    'default: deny',
    '',
  ].join('\n');
}

beforeAll(async () => {
  repos = await makeGateRepos();
  stall = createServer((s) => stalled.push(s)); // accepts and never answers
  await new Promise<void>((r) => stall.listen(0, '127.0.0.1', r));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'hook-key.pem', '-out', 'hook.crt', '-days', '2', '-subj', '/CN=notary-ts-webhook', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { cwd: repos.work, stdio: 'pipe' },
  );
  ca = readFileSync(join(repos.work, 'hook.crt'));
  agent = new Agent({ ca, keepAlive: true, maxSockets: 64 });
  policyFile = join(repos.work, 'hook-policy.yaml');
  auditFile = join(repos.work, 'audit.jsonl');
  writeFileSync(policyFile, policyText());
  const child = spawn(
    process.execPath,
    [BIN, 'admission', 'serve', '--policy', policyFile, '--tls-cert', join(repos.work, 'hook.crt'), '--tls-key', join(repos.work, 'hook-key.pem'), '--host', '127.0.0.1', '--port', '0', '--deadline', '5s', '--reload-interval', '200ms', '--audit-log', auditFile],
    { env: { PATH: process.env['PATH']!, HOME: repos.work, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = await new Promise<string>((ok, fail) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      const m = /serving on (https:\/\/[^ ]+)/.exec(stderr);
      if (m) ok(m[1]!);
    });
    void exit.then((code) => fail(new Error(`webhook exited ${code}: ${stderr}`)));
  });
  hook = { child, url, stderr: () => stderr, exit };
}, 180_000);

afterAll(async () => {
  if (hook && hook.child.exitCode === null) hook.child.kill('SIGKILL');
  agent?.destroy();
  for (const s of stalled) s.destroy();
  stall?.close();
  await repos?.cleanup();
});

function call(method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((ok, fail) => {
    const req = request(`${hook.url}${path}`, { method, agent, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => ok({ status: res.statusCode!, text }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

let uid = 0;
function reviewOf(kind: string, object: unknown, operation = 'CREATE') {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: `uid-${++uid}`, kind: { group: kind === 'Pod' ? '' : 'apps', version: 'v1', kind }, operation, namespace: 'prod', name: 'x', object },
  };
}

const podSpec = (images: string[], init: string[] = []) => ({
  containers: images.map((image, i) => ({ name: `c${i}`, image })),
  ...(init.length ? { initContainers: init.map((image, i) => ({ name: `i${i}`, image })) } : {}),
});

const WORKLOADS: [string, (spec: unknown) => unknown, string][] = [
  ['Pod', (spec) => ({ spec }), '/spec'],
  ['Deployment', (spec) => ({ spec: { template: { spec } } }), '/spec/template/spec'],
  ['ReplicaSet', (spec) => ({ spec: { template: { spec } } }), '/spec/template/spec'],
  ['StatefulSet', (spec) => ({ spec: { template: { spec } } }), '/spec/template/spec'],
  ['DaemonSet', (spec) => ({ spec: { template: { spec } } }), '/spec/template/spec'],
  ['Job', (spec) => ({ spec: { template: { spec } } }), '/spec/template/spec'],
  ['CronJob', (spec) => ({ spec: { jobTemplate: { spec: { template: { spec } } } } }), '/spec/jobTemplate/spec/template/spec'],
];

async function admit(path: string, review: unknown) {
  const r = await call('POST', path, JSON.stringify(review));
  expect(r.status, r.text).toBe(200);
  const doc = JSON.parse(r.text);
  expect(doc).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
  expect(doc.response.uid).toBe((review as { request: { uid: string } }).request.uid);
  const patch = doc.response.patch ? JSON.parse(Buffer.from(doc.response.patch, 'base64').toString('utf8')) : undefined;
  return { response: doc.response, patch };
}

describe('admission webhook (built bin over HTTPS)', () => {
  it('health, readiness and metrics', async () => {
    expect(await call('GET', '/healthz')).toEqual({ status: 200, text: 'ok\n' });
    expect(await call('GET', '/readyz')).toEqual({ status: 200, text: 'ok\n' });
    const m = await call('GET', '/metrics');
    expect(m.status).toBe(200);
    expect(m.text).toContain('# TYPE notary_ts_admission_review_duration_seconds histogram');
  });

  it.each(WORKLOADS)('%s: mutating pins every image (init containers too) to its verified digest', async (kind, wrap, prefix) => {
    const image = `${repos.app}:v1`;
    const { response, patch } = await admit('/mutate', reviewOf(kind, wrap(podSpec([image, `${repos.app}:v2`], [image]))));
    expect(response.allowed).toBe(true);
    expect(patch).toEqual([
      { op: 'replace', path: `${prefix}/initContainers/0/image`, value: `${repos.app}@sha256:${repos.digest.d1}` },
      { op: 'replace', path: `${prefix}/containers/0/image`, value: `${repos.app}@sha256:${repos.digest.d1}` },
      { op: 'replace', path: `${prefix}/containers/1/image`, value: `${repos.app}@sha256:${repos.digest.d2}` },
    ]);
    expect(response.patchType).toBe('JSONPatch');
  });

  it('ephemeral containers are checked too', async () => {
    const spec = { containers: [{ name: 'a', image: `${repos.app}:v1` }], ephemeralContainers: [{ name: 'dbg', image: `${repos.app}:top` }] };
    const { response } = await admit('/mutate', reviewOf('Pod', { spec }));
    expect(response.allowed).toBe(false);
    expect(response.status.message).toContain('ephemeralContainers/dbg');
  });

  it('validating: allows without a patch', async () => {
    const { response, patch } = await admit('/validate', reviewOf('Deployment', { spec: { template: { spec: podSpec([`${repos.app}:v1`]) } } }));
    expect(response.allowed).toBe(true);
    expect(patch).toBeUndefined();
  });

  it('denies an image the policy refuses, with a message a person can act on', async () => {
    const { response } = await admit('/mutate', reviewOf('Pod', { spec: podSpec([`${repos.app}:v1`, `${repos.app}:top`]) }));
    expect(response.allowed).toBe(false);
    expect(response.status.code).toBe(403);
    expect(response.status.message).toContain(`containers/c1: image ${repos.app}:top denied by rule team (SIGNER_MISSING:`);
    expect(response.patch).toBeUndefined();
  });

  it('denies images no rule matches (default deny) and invalid references', async () => {
    const { response } = await admit('/validate', reviewOf('Pod', { spec: podSpec(['quay.io/x/y:1', 'UPPER/case']) }));
    expect(response.allowed).toBe(false);
    expect(response.status.message).toContain('quay.io/x/y:1 denied by rule default');
    expect(response.status.message).toContain('UPPER/case denied');
  });

  it('warn rule: allowed with a warning, not pinned', async () => {
    const { response, patch } = await admit('/mutate', reviewOf('Pod', { spec: podSpec([`${repos.plain}:v1`]) }));
    expect(response.allowed).toBe(true);
    expect(patch).toBeUndefined();
    expect(response.warnings).toHaveLength(1);
    expect(response.warnings[0]).toContain('rule legacy is warn-only');
  });

  it('a stalled trust server: denied within the deadline (fail closed)', async () => {
    const started = Date.now();
    const { response } = await admit('/validate', reviewOf('Pod', { spec: podSpec(['registry.test/stall/app:v1']) }));
    expect(response.allowed).toBe(false);
    expect(response.status.message).toMatch(/could not be verified within \d+ ms|TIMEOUT|NETWORK/);
    expect(Date.now() - started).toBeLessThan(9000); // the 5 s deadline, with room for a loaded machine
  });

  it('honours a shorter ?timeout= from the API server', async () => {
    const started = Date.now();
    const { response } = await admit('/validate?timeout=1s', reviewOf('Pod', { spec: podSpec(['registry.test/stall/other:v1']) }));
    expect(response.allowed).toBe(false);
    expect(response.status.message).toContain('could not be verified within 500 ms');
    expect(Date.now() - started).toBeLessThan(4000); // well before the 5 s deadline
  });

  it('DELETE and kinds without pods are allowed (nothing to run)', async () => {
    expect((await admit('/validate', reviewOf('Pod', null, 'DELETE'))).response.allowed).toBe(true);
    expect((await admit('/validate', reviewOf('ConfigMap', { data: {} }))).response.allowed).toBe(true);
  });

  it.each([
    ['not JSON', '{"kind":'],
    ['not an AdmissionReview', JSON.stringify({ kind: 'Pod' })],
    ['no uid', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { kind: { kind: 'Pod' } } })],
    ['containers not a list', JSON.stringify(reviewOf('Pod', { spec: { containers: 'nginx' } }))],
    ['an image that is not a string', JSON.stringify(reviewOf('Pod', { spec: { containers: [{ name: 'a', image: 7 }] } }))],
    ['an array', '[]'],
  ])('malformed review (%s): a clear 400, and the webhook keeps serving', async (_what, body) => {
    const r = await call('POST', '/mutate', body);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error.code).toBe('BAD_REQUEST');
    expect((await call('GET', '/healthz')).status).toBe(200);
  });

  it('unknown paths are 404', async () => {
    expect((await call('GET', '/nope')).status).toBe(404);
  });

  it('writes one audit line per image decision', async () => {
    const review = reviewOf('Pod', { spec: podSpec([`${repos.app}:v1`, `${repos.app}:top`]) });
    await admit('/mutate', review);
    const mine = () => readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.uid === review.request.uid);
    await waitFor(() => mine().length === 2); // the audit stream is written asynchronously
    expect(mine()).toHaveLength(2);
    const [first, second] = mine();
    expect(first).toMatchObject({ image: `${repos.app}:v1`, allowed: true, rule: 'team', digest: `sha256:${repos.digest.d1}`, namespace: 'prod', kind: 'Pod', mutated: true });
    expect(second).toMatchObject({ image: `${repos.app}:top`, allowed: false, error: { code: 'SIGNER_MISSING' } });
  });

  it('load: 10,000 reviews with 64 in flight, all answered and allowed', async () => {
    const body = JSON.stringify(reviewOf('Pod', { spec: podSpec([`${repos.app}:v1`]) }));
    let next = 0;
    let ok = 0;
    const worker = async () => {
      while (next < 10_000) {
        next++;
        const r = await call('POST', '/validate', body);
        if (r.status === 200 && JSON.parse(r.text).response.allowed === true) ok++;
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    expect(ok).toBe(10_000);
    const m = (await call('GET', '/metrics')).text;
    expect(m).toMatch(/notary_ts_admission_decisions_total\{result="allow",rule="team"\} (\d+)/);
    expect(Number(/notary_ts_trust_cache_hits_total (\d+)/.exec(m)![1])).toBeGreaterThan(9000);
  }, 180_000);

  it('hot reload: a new policy applies; a bad one keeps the old and says why', async () => {
    const review = () => reviewOf('Pod', { spec: podSpec([`${repos.app}:v2`]) });
    expect((await admit('/validate', review())).response.allowed).toBe(true);
    writeFileSync(policyFile, policyText().replace('    signers: [ci]\n\ndefault', '    signers: [ci, qa]\n\ndefault'));
    await waitFor(async () => (await admit('/validate', review())).response.allowed === false);
    writeFileSync(policyFile, 'rules:\n  - pattern: a/b\n    bogus: 1\n');
    await waitFor(() => /policy not reloaded, keeping the previous one: .*hook-policy\.yaml:3: rules\[0\]\.bogus/.test(hook.stderr()));
    expect((await admit('/validate', review())).response.allowed).toBe(false);
    expect((await call('GET', '/metrics')).text).toMatch(/notary_ts_policy_reloads_total\{result="failed"\} [1-9]/);
    writeFileSync(policyFile, policyText());
    await waitFor(async () => (await admit('/validate', review())).response.allowed === true);
  }, 30_000);

  it('SIGTERM: finishes and exits 0', async () => {
    hook.child.kill('SIGTERM');
    expect(await hook.exit).toBe(0);
    expect(hook.stderr()).toContain('shutting down');
    expect(hook.stderr()).not.toMatch(/\n\s+at /); // no stack trace
  });
});

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}
