/**
 * `notary-ts report` and `trustReport()` on repositories the real Go `notary` made on a live notary-server:
 * delegations (an x509 one), a delegation whose threshold was raised above its signatures, and a root
 * rotation. Checked field by field against `notary list` / `notary delegation list`, the server's own files
 * and `openssl x509` on the root certificates; `--at` in the past and future; exit codes from the bin.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bumpVersion, signMetadata } from '../src/core/build.js';
import { canonicalKeyId, keyCertificates } from '../src/core/keys.js';
import { Metadata } from '../src/core/metadata.js';
import { nodeCryptoBackend as crypto } from '../src/crypto/node.js';
import { FileMetadataCache } from '../src/node/cache.js';
import { FileKeyStore } from '../src/node/keystore.js';
import { envRetriever } from '../src/node/passphrase.js';
import { NotaryRemote } from '../src/node/remote.js';
import { RepositoryWriter } from '../src/repository/writer.js';
import { trustReport, type RepositoryReport, type TrustReport } from '../src/index.js';
import { assembleReport, parseAt, parseWindow, naturalCompare, unverifiedRepositoryReport, type Finding } from '../src/report/model.js';
import { renderReportHtml } from '../src/report/html.js';
import { Chromium } from './support/chromium.js';
import { runOurs } from './support/cli.js';
import { REPO_ROOT } from './support/fixtures.js';
import { PASSPHRASE_ENV, goNotary, startServer, tempDir, type Server } from './support/go-repo.js';

const DAY = 86_400_000;
const FULL = 'example.com/report/full';
const PLAIN = 'example.com/report/plain';
const BIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');

let server: Server;
let work: string;
let goTrust: string;
const temps: string[] = [];
const temp = () => {
  const d = tempDir('report-test-');
  temps.push(d);
  return d;
};

/** The current file of a role as the server serves it (the independent oracle for versions and expiries). */
async function serverFile(gun: string, role: string): Promise<Metadata> {
  const res = await fetch(`${server.url}/v2/${gun}/_trust/tuf/${role}.json`);
  expect(res.status).toBe(200);
  return Metadata.fromBytes(new Uint8Array(await res.arrayBuffer()), role);
}

/** Re-signs targets with one delegation's threshold changed (Go's CLI cannot set a threshold). */
async function setThreshold(gun: string, trustDir: string, role: string, threshold: number): Promise<void> {
  const keyStore = await FileKeyStore.open(trustDir, { retriever: envRetriever(PASSPHRASE_ENV), crypto });
  const remote = new NotaryRemote({ serverUrl: server.url, gun });
  const writer = new RepositoryWriter({ gun, remote, cache: new FileMetadataCache(trustDir, gun), keyStore, crypto });
  try {
    const state = await writer.loadEditable();
    const targets = structuredClone(state.collection.roles.get('targets')!);
    targets.delegations!.roles!.find((r) => r.name === role)!.threshold = threshold;
    bumpVersion(targets, new Date(), 1095);
    const keys = new Map((state.collection.root.roles?.['targets']?.keyids ?? []).map((id) => [id, state.collection.root.keys![id]!]));
    const md = await signMetadata('Targets', targets, 'targets', await writer.heldSigners(keys));
    await writer.publish([], { presigned: new Map([['targets', md.bytes!]]) });
  } finally {
    await remote.close();
  }
}

/** Re-signs a delegation (same content, next version) to expire in `days` days. */
async function setDelegationExpiry(gun: string, trustDir: string, role: string, days: number): Promise<void> {
  const keyStore = await FileKeyStore.open(trustDir, { retriever: envRetriever(PASSPHRASE_ENV), crypto });
  const remote = new NotaryRemote({ serverUrl: server.url, gun });
  const writer = new RepositoryWriter({ gun, remote, cache: new FileMetadataCache(trustDir, gun), keyStore, crypto });
  try {
    const state = await writer.loadEditable();
    const signed = structuredClone(state.collection.roles.get(role)!);
    bumpVersion(signed, new Date(), days);
    const parent = state.collection.roles.get('targets')!;
    const entry = parent.delegations!.roles!.find((r) => r.name === role)!;
    const keys = new Map((entry.keyids ?? []).map((id) => [id, parent.delegations!.keys![id]!]));
    const md = await signMetadata('Targets', signed, role, await writer.heldSigners(keys));
    await writer.publish([], { presigned: new Map([[role, md.bytes!]]) });
  } finally {
    await remote.close();
  }
}

beforeAll(async () => {
  server = await startServer();
  work = temp();
  goTrust = join(work, 'trust');
  const g = (args: string[], input?: string) => goNotary(['-s', server.url, '-d', goTrust, ...args], {}, input);
  const file = (name: string, content: string) => {
    const p = join(work, name);
    writeFileSync(p, content);
    return p;
  };
  const keys = join(work, 'keys');
  mkdirSync(keys);
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: keys, stdio: 'pipe' });
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'rel-key.pem', '-out', 'rel.crt', '-days', '365', '-subj', '/CN=releases', '-sha256']);
  for (const n of ['alice', 'qa', 'qa2']) {
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${n}-key.pem`]);
    openssl(['pkey', '-in', `${n}-key.pem`, '-pubout', '-out', `${n}.pub.pem`]);
  }

  // FULL: delegations, a threshold raised above the signatures, a root rotation.
  g(['init', FULL, '-p']);
  g(['add', FULL, 'adminonly', file('admin', 'admin only\n')]);
  g(['publish', FULL]);
  g(['delegation', 'add', FULL, 'targets/releases', join(keys, 'rel.crt'), '--all-paths']);
  g(['delegation', 'add', FULL, 'targets/alice', join(keys, 'alice.pub.pem'), '--all-paths']);
  g(['delegation', 'add', FULL, 'targets/qa', join(keys, 'qa.pub.pem'), '--paths', 'qa/']);
  g(['key', 'import', join(keys, 'rel-key.pem'), '--role', 'targets/releases']);
  g(['key', 'import', join(keys, 'alice-key.pem'), '--role', 'targets/alice']);
  g(['key', 'import', join(keys, 'qa-key.pem'), '--role', 'targets/qa']);
  g(['publish', FULL]);
  const v1 = file('v1', 'version one\n');
  g(['add', FULL, 'v1', v1]);
  g(['add', FULL, 'v1', v1, '-r', 'targets/releases']);
  g(['add', FULL, 'v2', file('v2', 'version two\n'), '-r', 'targets/releases,targets/alice']);
  g(['add', FULL, 'v10', file('v10', 'version ten\n'), '-r', 'targets/releases']);
  g(['add', FULL, 'rc<b>&1', file('rc', 'release candidate\n'), '-r', 'targets/releases']);
  g(['add', FULL, 'qa/x', file('qax', 'qa\n'), '-r', 'targets/qa']);
  g(['publish', FULL]);
  // A second qa key, then threshold 2: the published qa file (one signature) no longer counts.
  g(['delegation', 'add', FULL, 'targets/qa', join(keys, 'qa2.pub.pem'), '-p']);
  await setThreshold(FULL, goTrust, 'targets/qa', 2);
  g(['key', 'rotate', FULL, 'root'], 'yes\n');
  // alice's file expires in two days: in the window now, skipped as expired from day three.
  await setDelegationExpiry(FULL, goTrust, 'targets/alice', 2);

  // PLAIN: one tag in targets, nothing else.
  g(['init', PLAIN, '-p']);
  g(['add', PLAIN, 'latest', file('latest', 'latest\n'), '-p']);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

const repoOf = (report: TrustReport, gun: string): RepositoryReport => report.repositories.find((r) => r.gun === gun)!;
const kinds = (r: { findings: readonly { kind: string; role?: string; severity: string }[] }) => r.findings.map((f) => `${f.severity}:${f.kind}:${f.role ?? ''}`).sort();

describe('the report against what Go notary shows', () => {
  let report: TrustReport;
  beforeAll(async () => {
    report = await trustReport({ guns: [FULL, PLAIN], server: server.url, trustDir: temp(), proxy: false });
  }, 60_000);

  it('every delegation as `notary delegation list` shows it: name, paths, canonical key IDs, threshold', () => {
    const listed = goNotary(['-s', server.url, '-d', temp(), 'delegation', 'list', FULL]);
    // Rows: ROLE PATHS KEYIDS THRESHOLD, continuation rows for more paths/keys.
    const rows = listed.split('\n').filter((l) => /^\S/.test(l) && !l.startsWith('ROLE') && !l.startsWith('-'));
    const goRoles = new Map<string, { paths: string[]; keys: string[]; threshold: number }>();
    let current: { paths: string[]; keys: string[]; threshold: number } | undefined;
    for (const line of listed.split('\n').slice(3)) {
      if (!line.trim()) continue;
      const cells = line.split(/\s{2,}/).filter((c) => c !== '');
      if (/^\S/.test(line)) {
        current = { paths: [], keys: [], threshold: Number(cells[3]) };
        goRoles.set(cells[0]!, current);
        current.paths.push(cells[1]!);
        current.keys.push(cells[2]!);
      } else {
        const rest = line.trim().split(/\s{2,}/);
        for (const c of rest) (/^[0-9a-f]{64}$/.test(c) ? current!.keys : current!.paths).push(c);
      }
    }
    expect(rows.length).toBe(3);
    const full = repoOf(report, FULL);
    const ours = full.roles.filter((r) => r.kind === 'delegation');
    expect(ours.map((r) => r.role).sort()).toEqual([...goRoles.keys()].sort());
    for (const r of ours) {
      const go = goRoles.get(r.role)!;
      expect(r.threshold, r.role).toBe(go.threshold);
      expect(r.keys.map((k) => k.canonicalId).sort(), r.role).toEqual([...go.keys].sort());
      expect(r.paths!.map((p) => (p === '' ? '"" <all paths>' : p)).sort(), r.role).toEqual([...go.paths].sort());
    }
    expect(goRoles.get('targets/qa')!.threshold).toBe(2);
  });

  it('signed tags agree with `notary list` (digest and role), with docker-style signers', () => {
    const listed = goNotary(['-s', server.url, '-d', temp(), 'list', FULL]);
    const goTargets = new Map(
      listed
        .split('\n')
        .filter((l) => l.trim() && !/^(NAME|----)\s/.test(l))
        .map((l) => l.trim().split(/\s+/))
        .map(([name, digest, , role]) => [name!, { digest: digest!, role: role! }]),
    );
    // qa/x is not listed by Go: targets/qa is below its threshold.
    expect([...goTargets.keys()].sort()).toEqual(['adminonly', 'rc<b>&1', 'v1', 'v10', 'v2']);
    const full = repoOf(report, FULL);
    expect(full.signedTags.map((t) => t.tag)).toEqual(['adminonly', 'rc<b>&1', 'v1', 'v2', 'v10']); // natural order
    for (const t of full.signedTags) {
      const go = goTargets.get(t.tag)!;
      expect(t.digest, t.tag).toBe(go.digest);
      expect(t.roles, t.tag).toContain(go.role);
    }
    const signers = Object.fromEntries(full.signedTags.map((t) => [t.tag, t.signers]));
    expect(signers).toEqual({ adminonly: ['Repo Admin'], 'rc<b>&1': ['Repo Admin'], v1: ['Repo Admin'], v2: ['alice'], v10: ['Repo Admin'] });
    expect(full.signers.map((s) => s.name)).toEqual(['alice', 'qa']);
  });

  it('versions and expiries are those of the files the server serves; root certificates as openssl reads them', async () => {
    for (const gun of [FULL, PLAIN]) {
      const repo = repoOf(report, gun);
      for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
        const md = await serverFile(gun, role);
        const ours = repo.roles.find((r) => r.role === role)!;
        expect(ours.version, `${gun} ${role}`).toBe(md.version);
        expect(new Date(ours.expires!).getTime(), `${gun} ${role}`).toBe(Math.floor(new Date(md.signed.expires).getTime()));
        expect(ours.state).toBe('trusted');
        expect(ours.secondsLeft).toBeGreaterThan(0);
      }
    }
    // Delegations: each trusted (or skipped) role's version and expiry as served.
    for (const r of repoOf(report, FULL).roles.filter((x) => x.kind === 'delegation')) {
      const md = await serverFile(FULL, r.role);
      expect([r.version, new Date(r.expires!).getTime()], r.role).toEqual([md.version, Math.floor(new Date(md.signed.expires).getTime())]);
    }
    expect(repoOf(report, FULL).roles.find((r) => r.role === 'targets/alice')!.version).toBe(2);
    // The rotation: root v2, its new certificate active, the old one kept and retired.
    const full = repoOf(report, FULL);
    const root = (await serverFile(FULL, 'root')) as Metadata<'Root'>;
    expect(full.roles.find((r) => r.role === 'root')!.version).toBe(2);
    const certs = full.certificates.filter((c) => c.role === 'root');
    expect(certs.length).toBe(2);
    expect(certs.filter((c) => c.active).map((c) => c.keyId)).toEqual(root.signed.roles!['root']!.keyids);
    for (const c of certs) {
      const pem = Buffer.from(root.signed.keys![c.keyId]!.keyval.public, 'base64').toString('utf8');
      const end = execFileSync('openssl', ['x509', '-noout', '-enddate'], { input: pem, encoding: 'utf8' }).trim().replace('notAfter=', '');
      expect(new Date(c.notAfter).getTime()).toBe(new Date(end).getTime());
      expect(c.subject).toBe(FULL);
      expect(c.canonicalId).toBe(canonicalKeyId(root.signed.keys![c.keyId]!, crypto));
    }
    // The x509 delegation key's certificate (365 days).
    const rel = full.certificates.find((c) => c.role === 'targets/releases')!;
    const relEnd = execFileSync('openssl', ['x509', '-noout', '-enddate', '-in', join(work, 'keys', 'rel.crt')], { encoding: 'utf8' }).trim().replace('notAfter=', '');
    expect(new Date(rel.notAfter).getTime()).toBe(new Date(relEnd).getTime());
    expect(keyCertificates(root.signed.keys![certs[0]!.keyId]!).length).toBe(1);
  });

  it('the HTML page in headless Chromium: loads clean, findings first, a timeline and a tree per repository, light, dark, print, no request out', async () => {
    const dir = temp();
    const page = join(dir, 'report.html');
    writeFileSync(page, renderReportHtml(report));
    const browser = await Chromium.launch();
    try {
      await browser.navigate(pathToFileURL(page).href);
      const counts = await browser.evaluate<Record<string, unknown>>(`(() => {
        const q = (s, root = document) => root.querySelectorAll(s).length;
        const repo = (gun) => document.querySelector('section.repo[data-gun="' + gun + '"]');
        const per = (gun) => ({
          timelines: q('.timeline', repo(gun)),
          rows: q('.timeline .tl-row:not(.tl-axis)', repo(gun)),
          dataRows: Number(repo(gun).querySelector('.timeline').dataset.rows),
          windowMarks: q('.timeline .tl-window', repo(gun)),
          nodes: q('ul.tree li.node', repo(gun)),
          skippedNodes: q('ul.tree li.node[data-state="skipped"]', repo(gun)),
          depth2: q('ul.tree > li > ul > li.node', repo(gun)),
          tags: q('table.tags tbody tr', repo(gun)),
        });
        const first = document.body.querySelector('section');
        return {
          firstSection: first && first.id,
          findings: q('#findings li.finding'),
          firstFinding: document.querySelector('#findings li.finding')?.dataset.kind,
          scripts: q('script'),
          injected: q('b', document.querySelector('table.tags')),
          tagText: [...document.querySelectorAll('section.repo[data-gun="${FULL}"] table.tags td:first-child')].map((td) => td.textContent),
          full: per('${FULL}'),
          plain: per('${PLAIN}'),
          lightBg: getComputedStyle(document.body).backgroundColor,
        };
      })()`);
      const full = repoOf(report, FULL);
      const rowsOf = (r: RepositoryReport) => r.roles.filter((x) => x.expires).length + r.certificates.filter((c) => c.active).length;
      expect(rowsOf(full)).toBe(9); // 4 top-level + 3 delegations + the root and the releases certificates
      expect(counts).toMatchObject({
        firstSection: 'findings',
        findings: report.findings.length,
        firstFinding: 'threshold-not-met',
        scripts: 0,
        injected: 0,
        full: { timelines: 1, rows: 9, dataRows: 9, windowMarks: 1, nodes: 4, skippedNodes: 1, depth2: 3, tags: 5 },
        plain: { timelines: 1, rows: 5, dataRows: 5, windowMarks: 1, nodes: 1, skippedNodes: 0, depth2: 0, tags: 1 },
        lightBg: 'rgb(255, 255, 255)',
      });
      expect(counts['tagText']).toContain('rc<b>&1');
      writeFileSync(join(dir, 'report-light.png'), await browser.screenshot());
      await browser.page('Emulation.setEmulatedMedia', { features: [{ name: 'prefers-color-scheme', value: 'dark' }] });
      expect(await browser.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(15, 18, 23)');
      writeFileSync(join(dir, 'report-dark.png'), await browser.screenshot());
      await browser.page('Emulation.setEmulatedMedia', { media: 'print', features: [{ name: 'prefers-color-scheme', value: 'dark' }] });
      expect(await browser.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(255, 255, 255)');
      const pdf = await browser.page('Page.printToPDF', { printBackground: true });
      writeFileSync(join(dir, 'report.pdf'), Buffer.from(pdf.data, 'base64'));
      expect(Buffer.from(pdf.data, 'base64').subarray(0, 5).toString()).toBe('%PDF-');
      for (const shot of ['report-light.png', 'report-dark.png']) {
        const png = readFileSync(join(dir, shot));
        expect(png.subarray(1, 4).toString()).toBe('PNG');
        expect(png.readUInt32BE(16)).toBe(1280); // IHDR width
        expect(png.readUInt32BE(20)).toBeGreaterThan(800); // the whole page, not the viewport
      }
      const keep = process.env['REPORT_SCREENSHOTS'];
      if (keep) for (const f of ['report.html', 'report-light.png', 'report-dark.png', 'report.pdf']) copyFileSync(join(dir, f), join(keep, f));
      expect(browser.consoleErrors).toEqual([]);
      // The only request: the page itself.
      expect(browser.requests).toEqual([pathToFileURL(page).href]);

      // The detectors work: a page that fetches from the network is seen doing so, and its error reported.
      const control = join(dir, 'control.html');
      writeFileSync(control, '<!DOCTYPE html><img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script>');
      await browser.navigate(pathToFileURL(control).href);
      expect(browser.requests).toContain('http://127.0.0.1:9/x.png');
      expect(browser.consoleErrors.some((e) => e.includes('boom'))).toBe(true);
    } finally {
      await browser.close();
    }
  }, 90_000);

  it('the threshold role is skipped and reported; the tag only in targets is a finding; the plain repository is clear', () => {
    const full = repoOf(report, FULL);
    const qa = full.roles.find((r) => r.role === 'targets/qa')!;
    expect(qa.state).toBe('skipped');
    expect(qa.skipped?.code).toBe('THRESHOLD_NOT_MET');
    expect(qa.threshold).toBe(2);
    expect(qa.signedBy?.length).toBe(1);
    expect(kinds(full)).toEqual(['critical:threshold-not-met:targets/qa', 'warning:expires-soon:targets/alice', 'warning:tag-not-in-releases:targets']);
    expect(full.findings[0]!.kind).toBe('threshold-not-met'); // most urgent first
    expect(full.findings.find((f) => f.kind === 'tag-not-in-releases')!.tag).toBe('adminonly');
    // The tree: targets → releases, alice, qa (skipped), as the parent lists them.
    expect(full.delegations!.children.map((c) => [c.role, c.state])).toEqual([
      ['targets/releases', 'trusted'],
      ['targets/alice', 'trusted'],
      ['targets/qa', 'skipped'],
    ]);
    expect(full.delegations!.children[2]!.paths).toEqual(['qa/']);
    const plain = repoOf(report, PLAIN);
    expect(plain.status).toBe('clear');
    expect(plain.findings).toEqual([]);
    expect(plain.delegations!.children).toEqual([]);
    expect(report.status).toBe('findings');
    expect(report.exitCode).toBe(1);
    expect(report.findings.length).toBe(full.findings.length);
  });
});

describe('--at moves findings', () => {
  const at = async (gun: string, when: Date, warnWithinMs?: number) =>
    repoOf(await trustReport({ guns: [gun], server: server.url, trustDir: temp(), proxy: false, at: when, ...(warnWithinMs !== undefined ? { warnWithinMs } : {}) }), gun);

  it('now clear; in 20 days the expired timestamp is only a notice (the server renews it); near 3 years a warning; after, critical', async () => {
    const now = Date.now();
    expect((await at(PLAIN, new Date(now))).status).toBe('clear');
    const in20 = await at(PLAIN, new Date(now + 20 * DAY));
    expect(kinds(in20)).toEqual(['notice:timestamp-renewed-by-server:timestamp']);
    expect(in20.status).toBe('clear');
    const snapshotExpiry = new Date(in20.roles.find((r) => r.role === 'snapshot')!.expires!).getTime();
    const targetsExpiry = new Date(in20.roles.find((r) => r.role === 'targets')!.expires!).getTime();
    const first = Math.min(snapshotExpiry, targetsExpiry);
    const before = await at(PLAIN, new Date(first - 10 * DAY));
    expect(kinds(before).filter((k) => !k.startsWith('notice'))).toEqual(['warning:expires-soon:snapshot', 'warning:expires-soon:targets']);
    expect(before.status).toBe('findings');
    expect(before.findings.find((f) => f.kind === 'expires-soon')!.secondsLeft).toBeLessThanOrEqual(10 * 86400 + 1);
    // A narrower window: the same moment is clear again.
    expect((await at(PLAIN, new Date(first - 10 * DAY), 5 * DAY)).status).toBe('clear');
    const after = await at(PLAIN, new Date(Math.max(snapshotExpiry, targetsExpiry) + DAY));
    expect(after.verified).toBe(true); // verified as of now, judged as of --at
    expect(kinds(after).filter((k) => k.startsWith('critical'))).toEqual(['critical:expired:snapshot', 'critical:expired:targets']);
  }, 60_000);

  it('a static file:// copy: nobody renews its timestamp, so its expiry is critical (and a warning in the window)', async () => {
    const site = temp();
    const trust = temp();
    const payload = join(temp(), 'p');
    writeFileSync(payload, 'static\n');
    const gun = 'example.com/report/static';
    // The directory's timestamp key is local: its passphrase is Docker's repository one.
    const env = { ...PASSPHRASE_ENV, DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'test-repository-passphrase' };
    for (const args of [['init', gun], ['add', gun, 'v1', payload, '-p']]) {
      const r = await runOurs(['-s', `file://${site}`, '-d', trust, ...args], { env });
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    const run = (extra: string[]) => runOurs(['-s', `file://${site}`, '-d', temp(), 'report', gun, '--json', ...extra]);
    const now = await run([]);
    const nowDoc = JSON.parse(now.stdout) as TrustReport;
    const ts = nowDoc.repositories[0]!.roles.find((r) => r.role === 'timestamp')!;
    expect(ts.renewedByServer).toBe(false);
    const inWindow = ts.secondsLeft! < 30 * 86400;
    expect(now.code).toBe(inWindow ? 1 : 0);
    if (inWindow) expect(kinds(nowDoc.repositories[0]!)).toEqual(['warning:expires-soon:timestamp']);
    const later = await run(['--at', new Date(new Date(ts.expires!).getTime() + DAY).toISOString()]);
    expect(later.code).toBe(1);
    expect(kinds((JSON.parse(later.stdout) as TrustReport).repositories[0]!)).toContain('critical:expired:timestamp');
    // The library decides the same from the URL.
    const lib = await trustReport({ guns: [gun], server: `file://${site}`, trustDir: temp(), at: new Date(new Date(ts.expires!).getTime() + DAY) });
    expect(kinds(lib.repositories[0]!)).toContain('critical:expired:timestamp');
  }, 60_000);

  it('a delegation expired as of --at is skipped by the workflow and reported (its signatures no longer count)', async () => {
    const later = await at(FULL, new Date(Date.now() + 3 * DAY));
    const alice = later.roles.find((r) => r.role === 'targets/alice')!;
    expect([alice.state, alice.skipped?.code, alice.expired]).toEqual(['skipped', 'EXPIRED', true]);
    expect(new Date(later.verifiedAt!).getTime()).toBeGreaterThan(Date.now() + 2 * DAY); // as of --at itself: only a delegation lapsed
    expect(kinds(later)).toEqual(['critical:expired:targets/alice', 'critical:threshold-not-met:targets/qa', 'warning:tag-not-in-releases:targets']);
    expect(later.findings[0]!.kind).toBe('expired'); // already lapsed ranks before the threshold
    expect(later.signedTags.find((t) => t.tag === 'v2')!.signers).toEqual(['Repo Admin']);
  }, 60_000);

  it('past: before the root certificate was valid the workflow refuses (a finding); a few hours ago it was clear', async () => {
    const past = await at(PLAIN, new Date(Date.now() - 3 * DAY));
    expect(past.refusedAt?.code).toBe('NO_VALID_ROOT_CERTIFICATES');
    expect(kinds(past)).toContain('critical:refused:');
    expect((await at(PLAIN, new Date(Date.now() - 6 * 3600_000))).status).toBe('clear');
  }, 60_000);

  it('the delegation certificate (365 days) and the 10-year root certificate come into the window in turn', async () => {
    const full = await at(FULL, new Date(Date.now() + 350 * DAY));
    expect(kinds(full)).toContain('notice:certificate-expires-soon:targets/releases');
    const late = await at(PLAIN, new Date(Date.now() + (3650 - 20) * DAY));
    expect(kinds(late)).toContain('warning:certificate-expires-soon:root');
  }, 60_000);
});

describe('the model and renderers are pure', () => {
  it('src/report/{model,html,text}.ts import only the core (no Node, no IO layers)', () => {
    for (const f of ['model.ts', 'html.ts', 'text.ts']) {
      const text = readFileSync(join(REPO_ROOT, 'src', 'report', f), 'utf8');
      const imports = [...text.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((m) => m[1]!);
      expect(imports.filter((m) => !m.startsWith('../core/') && !m.startsWith('./')), f).toEqual([]);
      expect(imports.filter((m) => m.startsWith('./') && !['./model.js'].includes(m)), f).toEqual([]);
    }
  });

  it('the document: unverified wins over findings, notices never count, findings ranked by severity then time left', () => {
    const base = unverifiedRepositoryReport('b', { code: 'NOT_FOUND', message: 'nope' });
    const at = new Date('2027-01-01T00:00:00Z');
    const repo = (gun: string, findings: Finding[]): RepositoryReport => ({
      ...base,
      gun,
      verified: true,
      status: findings.some((f) => f.severity !== 'notice') ? 'findings' : 'clear',
      findings,
    });
    const f = (severity: Finding['severity'], secondsLeft?: number): Finding => ({ severity, kind: 'expires-soon', gun: 'a', message: '', ...(secondsLeft !== undefined ? { secondsLeft } : {}) });
    const opts = { at, warnWithinMs: DAY, generatedAt: at };
    expect(assembleReport([repo('a', [f('notice')])], opts)).toMatchObject({ status: 'clear', exitCode: 0, counts: { notice: 1 } });
    expect(assembleReport([repo('a', [f('notice'), f('warning', 5)])], opts)).toMatchObject({ status: 'findings', exitCode: 1 });
    const both = assembleReport([repo('a', [f('warning', 5), f('critical', 100), f('critical', -100), f('warning', 1), f('notice', -5)]), base], opts);
    expect(both).toMatchObject({ status: 'unverified', exitCode: 2, counts: { critical: 3, warning: 2, notice: 1 } });
    expect(both.findings.map((x) => `${x.severity}${x.secondsLeft ?? x.kind}`)).toEqual(['criticalunverified', 'critical-100', 'critical100', 'warning1', 'warning5', 'notice-5']);
    expect(both.windowEnd).toBe('2027-01-02T00:00:00.000Z');
  });
});

describe('parsing --at and --warn-within', () => {
  it('reads RFC 3339, dates, offsets and Go-style durations', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(parseAt('2027-02-03', now)?.toISOString()).toBe('2027-02-03T00:00:00.000Z');
    expect(parseAt('2027-02-03T04:05:06+01:00', now)?.toISOString()).toBe('2027-02-03T03:05:06.000Z');
    expect(parseAt('+90d', now)?.toISOString()).toBe('2026-04-01T00:00:00.000Z');
    expect(parseAt('-1y', now)?.toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(parseAt('next week', now)).toBeUndefined();
    expect(parseAt('2027-13-01', now)).toBeUndefined();
    expect(parseWindow('30d')).toBe(30 * DAY);
    expect(parseWindow('1h30m')).toBe(90 * 60_000);
    expect(parseWindow('2w')).toBe(14 * DAY);
    expect(parseWindow('0')).toBe(0);
    expect(parseWindow('30')).toBeUndefined();
    expect(parseWindow('-3d')).toBeUndefined();
    expect(['v10', 'v2', 'v1', 'a'].sort(naturalCompare)).toEqual(['a', 'v1', 'v2', 'v10']);
  });
});

function runBin(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env['PATH']!, HOME: cwd, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('the CLI (the built bin, in its own process)', () => {
  it('exit 0 clear, 1 findings, 2 when a repository cannot be verified (never clear), 2 for bad arguments', async () => {
    expect(existsSync(BIN)).toBe(true);
    const cwd = temp();
    let r = await runBin(['-s', server.url, '-d', join(cwd, 't'), 'report', PLAIN], cwd);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`== ${PLAIN}: clear`);
    r = await runBin(['-s', server.url, '-d', join(cwd, 't'), 'report', PLAIN, FULL, '--json', '--html', 'out/report.html'], cwd);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as TrustReport;
    expect(doc.schema).toBe('notary-ts/report/v1');
    expect(doc.exitCode).toBe(1);
    expect(doc.repositories.map((x) => x.status)).toEqual(['clear', 'findings']);
    expect(readFileSync(join(cwd, 'out', 'report.html'), 'utf8')).toContain('<!DOCTYPE html>');
    // A GUN the server does not have, next to a good one: unverified, exit 2.
    r = await runBin(['-s', server.url, '-d', join(cwd, 't'), 'report', PLAIN, 'example.com/report/missing', '--json'], cwd);
    expect(r.code).toBe(2);
    const missing = JSON.parse(r.stdout) as TrustReport;
    expect(missing.status).toBe('unverified');
    expect(missing.repositories[1]).toMatchObject({ gun: 'example.com/report/missing', verified: false, status: 'unverified', error: { code: 'NOT_FOUND' } });
    expect(missing.findings[0]!.kind).toBe('unverified');
    // No server at all and nothing cached: the retries' backoff must keep the process alive until the
    // answer (an unref'd timer once ended it with Node's exit 13 and nothing printed, `list` too).
    r = await runBin(['-s', 'http://127.0.0.1:1', '-d', join(cwd, 'empty'), 'report', PLAIN], cwd);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('could not verify');
    r = await runBin(['-s', 'http://127.0.0.1:1', '-d', join(cwd, 'empty'), 'list', PLAIN], cwd);
    // Go's words first, then the server and the cause (src/cli/offline.ts).
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^\n\* fatal: client is offline: could not reach http:\/\/127\.0\.0\.1:1: [^\n]*connection refused[^\n]*\n$/);
    // Bad arguments.
    for (const args of [['report'], ['report', PLAIN, '--at', 'soon'], ['report', PLAIN, '--warn-within', '3'], ['report', PLAIN, '--bogus']]) {
      r = await runBin(['-s', server.url, '-d', join(cwd, 't'), ...args], cwd);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toContain('* fatal:');
    }
  }, 120_000);

  it('in-process: no server and nothing cached is exit 2; --at in the future gives exit 1 for a repository clear now', async () => {
    const cwd = temp();
    const down = await runOurs(['-s', 'http://127.0.0.1:1', '-d', join(cwd, 'empty'), 'report', PLAIN]);
    expect(down.code).toBe(2);
    expect(down.stdout).toContain('could not verify');
    const now = await runOurs(['-s', server.url, '-d', join(cwd, 't'), 'report', PLAIN]);
    expect(now.code).toBe(0);
    const later = await runOurs(['-s', server.url, '-d', join(cwd, 't'), 'report', PLAIN, '--at', '+1200d', '--json']);
    expect(later.code).toBe(1);
    expect(JSON.parse(later.stdout).counts.critical).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
