/**
 * The writer against the real notary-server, with the Go client as the judge: what we publish, Go lists;
 * what Go staged, we publish; rotations and delegations we sign are followed by Go.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCryptoBackend as crypto } from '../src/crypto/node.js';
import { FileMetadataCache } from '../src/node/cache.js';
import { FileKeyStore } from '../src/node/keystore.js';
import { envRetriever } from '../src/node/passphrase.js';
import { NotaryRemote } from '../src/node/remote.js';
import { fileMetaOf } from '../src/core/build.js';
import { FileChangelist, targetCreateChange, targetDeleteChange } from '../src/repository/changelist.js';
import { RepositoryWriter } from '../src/repository/writer.js';
import { runNotary } from './support/cli.js';
import { PASSPHRASE_ENV, goNotary, startServer, tempDir, type Server } from './support/go-repo.js';

let server: Server;
beforeAll(async () => {
  server = await startServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

async function writerFor(trustDir: string, gun: string, debug: string[] = []) {
  const keyStore = await FileKeyStore.open(trustDir, { retriever: envRetriever(PASSPHRASE_ENV), crypto });
  const remote = new NotaryRemote({ serverUrl: server.url, gun });
  const log = { warn: () => {}, debug: (m: string) => debug.push(m) };
  const writer = new RepositoryWriter({ gun, remote, cache: new FileMetadataCache(trustDir, gun), keyStore, crypto, log });
  return { writer, remote, keyStore };
}

function goList(gun: string, dir = tempDir()) {
  return goNotary(['-s', server.url, '-d', dir, 'list', gun]);
}

describe('writer interop with Go notary', () => {
  it('init + publish by us: Go lists the targets (fresh trust dir)', async () => {
    const gun = 'example.com/writer/ours';
    const trustDir = tempDir();
    const { writer, remote } = await writerFor(trustDir, gun);
    const init = await writer.init();
    expect(init.reusedRootKey).toBe(false);
    const meta = fileMetaOf(new TextEncoder().encode('hello\n'), crypto);
    const result = await writer.publish([targetCreateChange('targets', 'v1 <&>', meta), targetCreateChange('targets', 'café', meta)]);
    expect([...result.files.keys()].sort()).toEqual(['root', 'snapshot', 'targets']);
    const out = goList(gun);
    expect(out).toContain('v1 <&>');
    expect(out).toContain('café');
    // A second publish on top (refreshes first, bumps versions): Go follows with its cached state.
    const goDir = tempDir();
    goList(gun, goDir);
    await writer.publish([targetCreateChange('targets', 'v2', meta)]);
    expect(goList(gun, goDir)).toContain('v2');
    await remote.close();
  });

  it('Go stages in its changelist, we publish it; then Go publishes on top of ours', async () => {
    const gun = 'example.com/writer/mixed';
    const trustDir = tempDir();
    const g = (args: string[]) => goNotary(['-s', server.url, '-d', trustDir, ...args]);
    g(['init', gun, '-p']);
    const file = join(tempDir(), 'payload');
    await import('node:fs').then((fs) => fs.writeFileSync(file, 'payload\n'));
    g(['add', gun, 'staged-by-go', file]);
    const changelist = new FileChangelist(trustDir, gun);
    const staged = await changelist.list();
    expect(staged.length).toBe(1);
    const { writer, remote } = await writerFor(trustDir, gun);
    await writer.publish(staged.map((s) => s.change));
    await changelist.clear();
    expect(goList(gun)).toContain('staged-by-go');
    // Go publishes on top of what we signed, from the same trust dir.
    g(['add', gun, 'added-by-go', file]);
    g(['publish', gun]);
    const final = goList(gun);
    expect(final).toContain('staged-by-go');
    expect(final).toContain('added-by-go');
    const status = await runNotary(['-s', server.url, '-d', trustDir, 'status', gun]);
    expect(status.stdout).toContain('No unpublished changes');
    await remote.close();
  });

  it('re-signing a large targets role from its previous bytes (splice): the server and Go accept it, Go publishes on top', async () => {
    const gun = 'example.com/writer/splice';
    const trustDir = tempDir();
    const debug: string[] = [];
    const { writer, remote } = await writerFor(trustDir, gun, debug);
    await writer.init();
    const meta = (s: string) => fileMetaOf(new TextEncoder().encode(s), crypto);
    const names = ['9', '10', '123', 'ﬁ', '😀', 'ｚ', 'rel/one', ...Array.from({ length: 300 }, (_, i) => `tag-${String(i).padStart(4, '0')}`)];
    await writer.publish(names.map((n) => targetCreateChange('targets', n, meta(n))));
    expect(debug.some((m) => m.includes('re-signed from its previous canonical bytes'))).toBe(false); // first publish: nothing to splice
    // Insert (in the middle and at both ends), replace and delete in one publish.
    await writer.publish([
      targetCreateChange('targets', 'tag-0150a', meta('new middle')),
      targetCreateChange('targets', '0-first', meta('new first')),
      targetCreateChange('targets', '～last', meta('new last')),
      targetCreateChange('targets', 'tag-0007', meta('replaced')),
      targetDeleteChange('targets', 'tag-0200'),
      targetDeleteChange('targets', 'ﬁ'),
    ]);
    expect(debug.filter((m) => m.includes('targets: re-signed from its previous canonical bytes (6 target changes)')).length).toBe(1);
    const listed = goList(gun);
    for (const n of ['tag-0150a', '0-first', '～last', 'tag-0007', '😀', '10']) expect(listed).toContain(n);
    expect(listed).not.toContain('tag-0200');
    expect(listed).not.toMatch(/^ﬁ /m);
    expect(listed.trim().split('\n').length - 2).toBe(names.length + 3 - 2);
    // Go publishes on top of the spliced version from our trust dir (its own refresh and re-sign).
    const file = join(tempDir(), 'payload');
    await import('node:fs').then((fs) => fs.writeFileSync(file, 'payload\n'));
    goNotary(['-s', server.url, '-d', trustDir, 'add', gun, 'added-by-go', file]);
    goNotary(['-s', server.url, '-d', trustDir, 'publish', gun]);
    expect(goList(gun)).toContain('added-by-go');
    await remote.close();
  });
});
