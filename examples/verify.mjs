// Which digest is tag T of repository G, and who signed it?
//   node examples/verify.mjs https://notary.example.com:4443 registry.example.com/team/app v1.2.3
// Exit 0 only with a verified answer; any refusal or failure (unknown repository, tag not signed, server
// unreachable with nothing cached, tampered data…) is one line on stderr and exit 1.
import { openRepository, NotaryError, toHex, fromBase64 } from '../dist/index.js';

const [server, gun, tag] = process.argv.slice(2);
if (!tag) {
  console.error('usage: node examples/verify.mjs <server> <gun> <tag>');
  process.exit(2);
}
let repo;
try {
  repo = await openRepository({
    gun,
    server,
    trustDir: `${process.env.HOME}/.notary`,
    log: { warn: (m) => console.error(`warning: ${m}`), debug: () => {} },
  });
  const target = await repo.lookup(tag);
  console.log(`${gun}:${tag} = sha256:${toHex(fromBase64(target.hashes.sha256))} (${target.length} bytes)`);
  console.log(`signed by role ${target.role}, keys ${target.signers.join(', ')}`);
} catch (err) {
  // A NotaryError is a refusal with a stable code; anything else is a bug, reported without a stack trace.
  console.error(err instanceof NotaryError ? `refused [${err.code}]: ${err.message}` : `failed: ${err?.message ?? err}`);
  process.exitCode = 1;
} finally {
  await repo?.close();
}
