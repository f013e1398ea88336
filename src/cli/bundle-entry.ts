/**
 * The entry point of the CLI bundle (scripts/bundle.mjs bundles it into dist/cli/notary-ts.cjs). It exports
 * what src/cli/main.ts needs and nothing more: command groups stay behind their dynamic imports, which
 * esbuild turns into lazily initialised closures, so a command only evaluates the code it uses.
 */
export { buildProgram } from './commands/index.js';
