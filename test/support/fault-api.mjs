// One public API call against a (faulty) server, in a process of its own, for test/faults.test.ts: an
// in-runner test cannot see a promise that never settles, because the runner keeps the event loop alive.
//
//   node test/support/fault-api.mjs <api> '<json options>'
//
// Prints one line: `OK <answer>` (exit 0), `ERR <code> <message>` for a NotaryError (exit 2), or
// `UNTYPED <stack>` for anything else (exit 3). A call that never settles ends the process with Node's
// exit code 13 (unsettled top-level await); a call that hangs is killed by the test.
import {
  openRepository, NotaryError, NotaryRemote, RepositoryWriter, FileKeyStore, FileMetadataCache, constantRetriever,
  targetCreateChange, nodeCryptoBackend as crypto, toBase64,
} from '../../dist/index.js';
import { RoleCoSigner } from '../../dist/repository/cosign.js';

const [api, json] = process.argv.slice(2);
const o = JSON.parse(json ?? '{}');
const gun = o.gun;
const remoteOptions = () => ({
  serverUrl: o.server,
  gun,
  ...(o.tls ? { tls: o.tls } : {}),
  ...(o.proxy ? { proxy: o.proxy } : {}),
  ...(o.timeouts ? { timeouts: o.timeouts } : {}),
});
const openOptions = () => ({
  gun,
  server: o.server,
  trustDir: o.trustDir,
  proxy: o.proxy ?? false,
  ...(o.tls ? { tls: o.tls } : {}),
  ...(o.timeouts ? { timeouts: o.timeouts } : {}),
});

async function writer() {
  const keyStore = await FileKeyStore.open(o.trustDir, { retriever: constantRetriever(o.passphrase ?? 'pass'), crypto });
  const remote = new NotaryRemote(remoteOptions());
  const w = new RepositoryWriter({ gun, remote, cache: new FileMetadataCache(o.trustDir, gun), keyStore, crypto });
  return { w, remote, keyStore };
}

const calls = {
  async open() {
    const repo = await openRepository(openOptions());
    await repo.close();
    return 'opened';
  },
  async lookup() {
    const repo = await openRepository(openOptions());
    try {
      const t = await repo.lookup(o.target);
      return `${o.target} ${t.length} ${t.role}`;
    } finally {
      await repo.close();
    }
  },
  async list() {
    const repo = await openRepository(openOptions());
    try {
      return `${(await repo.listTargets()).length} targets`;
    } finally {
      await repo.close();
    }
  },
  async refresh() {
    // open against a good server (o.goodServer), then refresh the same object's view via a new open on the faulty one
    const repo = await openRepository({ ...openOptions(), server: o.goodServer });
    await repo.close();
    const again = await openRepository(openOptions());
    await again.close();
    return 'refreshed';
  },
  async ping() {
    const remote = new NotaryRemote(remoteOptions());
    try {
      await remote.ping();
      return 'pong';
    } finally {
      await remote.close();
    }
  },
  async timestamp() {
    const remote = new NotaryRemote(remoteOptions());
    try {
      return `${(await remote.getTimestamp()).length} bytes`;
    } finally {
      await remote.close();
    }
  },
  async init() {
    const { w, remote } = await writer();
    try {
      await w.init();
      return 'initialised';
    } finally {
      await remote.close();
    }
  },
  async publish() {
    const { w, remote } = await writer();
    try {
      await w.publish([targetCreateChange('targets', 'v9', { hashes: { sha256: toBase64(crypto.sha256(new Uint8Array([1]))) }, length: 1 })]);
      return 'published';
    } finally {
      await remote.close();
    }
  },
  async cosign() {
    const keyStore = await FileKeyStore.open(o.trustDir, { retriever: constantRetriever(o.passphrase ?? 'pass'), crypto });
    const remote = new NotaryRemote(remoteOptions());
    try {
      const signer = new RoleCoSigner({ gun, remote, cache: new FileMetadataCache(o.trustDir, gun), keyStore, crypto });
      await signer.prepare('targets', [targetCreateChange('targets', 'v9', { hashes: { sha256: toBase64(crypto.sha256(new Uint8Array([1]))) }, length: 1 })]);
      return 'prepared';
    } finally {
      await remote.close();
    }
  },
};

const call = calls[api];
if (!call) {
  process.stdout.write(`UNTYPED unknown api ${api}\n`);
  process.exit(3);
}
try {
  const answer = await call();
  process.stdout.write(`OK ${answer}\n`);
} catch (err) {
  if (err instanceof NotaryError) {
    process.stdout.write(`ERR ${err.code} ${String(err.message).replace(/\n/g, '\\n')}\n`);
    process.exitCode = 2;
  } else {
    process.stdout.write(`UNTYPED ${String(err?.stack ?? err).replace(/\n/g, '\\n')}\n`);
    process.exitCode = 3;
  }
}
