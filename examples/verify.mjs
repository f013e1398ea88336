// Which digest is tag T of repository G, and who signed it?
//   node examples/verify.mjs https://notary.example.com:4443 registry.example.com/team/app v1.2.3
import { openRepository, NotaryError, toHex, fromBase64 } from '../dist/index.js';

const [server, gun, tag] = process.argv.slice(2);
if (!tag) {
  console.error('usage: node examples/verify.mjs <server> <gun> <tag>');
  process.exit(2);
}
const repo = await openRepository({ gun, server, trustDir: `${process.env.HOME}/.notary` });
try {
  const target = await repo.lookup(tag);
  console.log(`${gun}:${tag} = sha256:${toHex(fromBase64(target.hashes.sha256))} (${target.length} bytes)`);
  console.log(`signed by role ${target.role}, keys ${target.signers.join(', ')}`);
} catch (err) {
  if (!(err instanceof NotaryError)) throw err;
  console.error(`refused [${err.code}]: ${err.message}`);
  process.exitCode = 1;
} finally {
  await repo.close();
}
