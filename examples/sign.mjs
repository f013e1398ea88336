// Sign a digest as tag T of repository G and publish it.
//   NOTARY_ROOT_PASSPHRASE=… NOTARY_TARGETS_PASSPHRASE=… NOTARY_SNAPSHOT_PASSPHRASE=… \
//   node examples/sign.mjs https://notary.example.com:4443 registry.example.com/team/app v1.2.3 <sha256-hex> <size>
// The server may also be file:///some/dir: a static mirror any Notary client can read through a web server.
// Exit 0 only once the server accepted the new metadata; any refusal or failure (wrong passphrase, server
// unreachable or refusing the upload…) is one line on stderr and exit 1.
import { join } from 'node:path';
import {
  FileKeyStore, envRetriever, NotaryRemote, DirectoryRemote, FileMetadataCache, RepositoryWriter, NotaryError,
  targetCreateChange, nodeCryptoBackend as crypto, toBase64, fromHex,
} from '../dist/index.js';

const [server, gun, tag, sha256Hex, size] = process.argv.slice(2);
if (!size || !/^[0-9a-f]{64}$/i.test(sha256Hex) || !/^\d+$/.test(size)) {
  console.error('usage: node examples/sign.mjs <server|file://dir> <gun> <tag> <sha256-hex> <size>');
  process.exit(2);
}
const trustDir = join(process.env.HOME, '.notary');
let remote;
try {
  const keyStore = await FileKeyStore.open(trustDir, { retriever: envRetriever(process.env), crypto });
  remote = server.startsWith('file://')
    ? new DirectoryRemote({ dir: new URL(server).pathname, gun, keyStore, crypto })
    : new NotaryRemote({ serverUrl: server, gun });
  const cache = new FileMetadataCache(trustDir, gun);
  const writer = new RepositoryWriter({ gun, remote, cache, keyStore, crypto });
  // A repository that exists neither locally nor on the server is initialised on its first publish, as notary does.
  await writer.publish([targetCreateChange('targets', tag, { hashes: { sha256: toBase64(fromHex(sha256Hex)) }, length: Number(size) })]);
  console.log(`published ${gun}:${tag}`);
} catch (err) {
  console.error(err instanceof NotaryError ? `refused [${err.code}]: ${err.message}` : `failed: ${err?.message ?? err}`);
  process.exitCode = 1;
} finally {
  await remote?.close();
}
