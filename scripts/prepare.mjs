// `npm install` of a git checkout (`npm install -g git+https://…/notary-ts.git`) and `npm pack` run this
// (package.json "prepare"): it builds dist/ so the installed `notary-ts` command exists. npm installs the
// devDependencies (typescript, esbuild) of a git dependency before `prepare`; if the TypeScript compiler is
// still missing, say what to do instead of failing obscurely. The esbuild bundle (faster start-up) is
// optional: without esbuild the CLI runs from tsc's modules (src/cli/main.ts falls back by itself).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(join(root, 'package.json'));
const has = (name) => {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
};

if (!existsSync(join(root, 'src'))) process.exit(0); // an installed tarball: dist/ is already there
// scripts/test.sh runs `npm ci` and then builds (and type-checks the tests) itself.
if (process.env['npm_command'] === 'ci') process.exit(0);
if (!has('typescript/bin/tsc')) {
  // npm's global git installs (`npm install -g git+…`) prepare the clone without its dependencies
  // (npm/cli#8440: the inner install inherits --global and --prefix). Install them here, locally.
  console.error('notary-ts prepare: installing the build tools (devDependencies) npm left out, then building');
  // None of the outer install's settings (global, prefix, allow-scripts, force…) but where to fetch from.
  const keep = /^npm_config_(cache|registry|userconfig|globalconfig|prefer_offline|prefer_online|offline|proxy|https_proxy|noproxy|cafile|strict_ssl)$/i;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_/i.test(k) || keep.test(k)));
  const npmCli = process.env['npm_execpath'];
  const args = ['install', '--no-save', '--include=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--global=false', `--prefix=${root}`];
  spawnSync(npmCli ? process.execPath : 'npm', npmCli ? [npmCli, ...args] : args, { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
}
if (!has('typescript/bin/tsc')) {
  console.error('notary-ts prepare: the TypeScript compiler (devDependency "typescript") is not installed, so dist/ cannot be built.');
  console.error('Install from the npm tarball instead (`npm pack` in a checkout with `npm ci` done), or run `npm ci && npm run build`.');
  process.exit(1);
}
const run = (args) => spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' }).status === 0;
if (!run([require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'])) process.exit(1);
if (!has('esbuild')) {
  console.error('notary-ts prepare: esbuild is not installed; the CLI will load its modules one by one (slower start-up).');
  process.exit(0);
}
if (!run([join('scripts', 'bundle.mjs')])) process.exit(1);
