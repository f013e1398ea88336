/**
 * `verify` for content of any size: the content (a file or standard input) is hashed as it streams —
 * sha256 and sha512 in one pass, constant memory — and echoed only once it is verified (fail closed: a
 * reader of stdout or of `-o FILE` never sees unverified bytes). Until then it is spooled: next to `-o FILE`
 * (then renamed over it), or in a private temporary directory for stdout (removed afterwards).
 */
import { fstat, promises as fs, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fromBase64, toHex } from '../core/bytes.js';
import type { TargetRecord } from '../core/collection.js';
import { HashError, TargetNotFoundError } from '../core/errors.js';
import { hashFd, hashStream, CHUNK_SIZE, type HashOptions, type StreamDigest } from '../node/bigfile/hash-stream.js';
import { CliError, type CommandContext } from './program.js';
import { progressLine } from './progress.js';
import { hashFdParallel, PARALLEL_MIN_BYTES } from '../node/bigfile/parallel-hash.js';
import { openErrorText } from './writer.js';

export interface VerifyOptions {
  readonly name: string;
  readonly target: TargetRecord;
  /** A file to read instead of standard input. */
  readonly input?: string | undefined;
  /** Where the verified content goes. */
  readonly echo: 'none' | 'stdout' | 'file';
  readonly output?: string;
}

function notPresent(name: string, cause: Error): TargetNotFoundError {
  return new TargetNotFoundError('HASH_MISMATCH', `data not present in the trusted collection, ${cause.message}`, { where: name, cause });
}

/** The digest against the target's hashes, as Notary's CheckHashes: every known algorithm must match, one at least. */
export function checkDigest(name: string, target: Pick<TargetRecord, 'hashes' | 'length'>, digest: StreamDigest): void {
  let checked = 0;
  for (const alg of ['sha256', 'sha512'] as const) {
    const expectedText = target.hashes[alg];
    if (expectedText === undefined) continue;
    const expected = toHex(fromBase64(expectedText) ?? new Uint8Array(0));
    if (toHex(digest[alg]) !== expected) throw notPresent(name, new HashError('HASH_MISMATCH', `${alg} checksum for ${name} did not match: expected ${expected}`, { where: name }));
    checked++;
  }
  if (checked === 0) throw notPresent(name, new HashError('NO_CHECKSUMS', `no checksums for supported algorithms were provided for ${name}`, { where: name }));
}

export async function verifyStreaming(ctx: CommandContext, options: VerifyOptions): Promise<StreamDigest> {
  const { name, target } = options;
  // A file (-i, or standard input redirected from one) is read through one reused buffer (hashFd); a pipe
  // as the stream it is.
  let source: AsyncIterable<Uint8Array | string> | undefined;
  let sourceFd: number | undefined;
  let total: number | undefined;
  let inputHandle: fs.FileHandle | undefined;
  if (options.input !== undefined) {
    try {
      inputHandle = await fs.open(resolve(ctx.io.cwd, options.input), 'r');
      total = (await inputHandle.stat()).size;
    } catch (err) {
      await inputHandle?.close();
      throw new CliError(openErrorText(options.input, err), { where: options.input });
    }
    sourceFd = inputHandle.fd;
  } else {
    const fd = ctx.io.stdinFd;
    const stat = fd === undefined ? undefined : await new Promise<Stats | undefined>((done) => fstat(fd, (err, st) => done(err ? undefined : st)));
    if (fd !== undefined && stat?.isFile()) {
      sourceFd = fd;
      total = stat.size;
    } else {
      source = ctx.io.stdin as AsyncIterable<Uint8Array | string>;
    }
  }

  // The spool: a private file the verified content is copied from (stdout) or renamed from (-o).
  let spoolDir: string | undefined;
  let spoolPath: string | undefined;
  let spool: fs.FileHandle | undefined;
  if (options.echo === 'stdout') {
    spoolDir = await fs.mkdtemp(join(tmpdir(), 'notary-ts-verify-'));
    spoolPath = join(spoolDir, 'content');
  } else if (options.echo === 'file' && options.output) {
    spoolPath = join(dirname(options.output), `.${basename(options.output)}.${process.pid}.${Date.now()}.tmp`);
  }
  const progress = progressLine(ctx, `verifying ${options.input ?? 'standard input'}`, total);
  let renamed = false;
  try {
    if (spoolPath) spool = await fs.open(spoolPath, 'wx', 0o600);
    const limit = target.length > 0 ? target.length : undefined;
    const hashOptions: HashOptions = {
      onProgress: (n: number) => progress.update(n),
      ...(spool ? { sink: async (chunk: Uint8Array) => void (await spool!.write(chunk)) } : {}),
      ...(limit !== undefined
        ? {
            limit,
            onLimit: (n: number) => notPresent(name, new HashError('LENGTH_EXCEEDED', `${name} is more than the ${limit} bytes the trusted collection states (${n} bytes read so far)`, { where: name })),
          }
        : {}),
    };
    const digest =
      sourceFd === undefined
        ? await hashStream(source!, hashOptions)
        : total !== undefined && total >= PARALLEL_MIN_BYTES
          ? await hashFdParallel(sourceFd, hashOptions)
          : await hashFd(sourceFd, hashOptions);
    progress.done();
    checkDigest(name, target, digest);
    if (spool) {
      if (options.echo === 'file') await spool.sync();
      await spool.close();
      spool = undefined;
    }
    if (options.echo === 'file' && spoolPath && options.output) {
      await fs.rename(spoolPath, options.output);
      renamed = true;
    } else if (options.echo === 'stdout' && spoolPath) {
      await copyToStdout(ctx, spoolPath);
    }
    return digest;
  } finally {
    progress.done();
    await spool?.close().catch(() => {});
    await inputHandle?.close().catch(() => {});
    if (spoolPath && !renamed) await fs.rm(spoolPath, { force: true }).catch(() => {});
    if (spoolDir) await fs.rm(spoolDir, { recursive: true, force: true }).catch(() => {});
  }
}

/** Copies the spool to stdout through one reused buffer, each write finished before the next read. */
async function copyToStdout(ctx: CommandContext, path: string): Promise<void> {
  const stream = ctx.io.stdoutStream;
  const handle = await fs.open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      const chunk = buffer.subarray(0, bytesRead);
      if (stream) await new Promise<void>((done, fail) => stream.write(chunk, (err) => (err ? fail(err) : done())));
      else ctx.io.stdoutBytes(Buffer.from(chunk));
    }
  } finally {
    await handle.close();
  }
}
