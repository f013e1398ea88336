/**
 * Setup file (vitest.config.ts `setupFiles`): every test file gets a temporary directory of its own, made the
 * process's TMPDIR before the file is imported — so `os.tmpdir()`, `mkdtemp` and the notary / notary-server
 * processes the tests start all create their temporary files inside it — and removed after the file's last
 * hook. Test files leaked ≈ 330 directories (15 MB) a run into /tmp before: helpers made directories without
 * removing them (test/support/go-repo.ts, the CLI suites' twin trust dirs). scripts/test.sh checks that the
 * run leaves nothing behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const outer = process.env['TMPDIR'];
const mine = mkdtempSync(join(tmpdir(), 'notary-ts-test-file-'));
process.env['TMPDIR'] = mine;

// Registered first, so it runs after the file's own afterAll hooks (vitest runs them as a stack).
afterAll(() => {
  if (outer === undefined) delete process.env['TMPDIR'];
  else process.env['TMPDIR'] = outer;
  rmSync(mine, { recursive: true, force: true, maxRetries: 3 });
});
