/**
 * `verify` for content of any size: the content (a file or standard input) is hashed as it streams —
 * sha256 and sha512 in one pass, constant memory — and echoed only once it is verified (fail closed: a
 * reader of stdout or of `-o FILE` never sees unverified bytes). Until then it is spooled: next to `-o FILE`
 * (then renamed over it), or in a private temporary directory for stdout (removed afterwards).
 */
import { createReadStream, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fromBase64, toHex } from '../core/bytes.js';
import type { TargetRecord } from '../core/collection.js';
import { HashError, TargetNotFoundError } from '../core/errors.js';
import { hashStream, CHUNK_SIZE, type StreamDigest } from '../node/bigfile/hash-stream.js';
import { CliError, type CommandContext } from './program.js';
import { progressLine } from './progress.js';
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
  let source: AsyncIterable<Uint8Array | string>;
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
    source = createReadStream('', { fd: inputHandle.fd, autoClose: false, highWaterMark: CHUNK_SIZE });
  } else {
    source = ctx.io.stdin as AsyncIterable<Uint8Array | string>;
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
    const digest = await hashStream(source, {
      onProgress: (n) => progress.update(n),
      ...(spool ? { sink: async (chunk: Uint8Array) => void (await spool!.write(chunk)) } : {}),
      ...(limit !== undefined
        ? {
            limit,
            onLimit: (n: number) => notPresent(name, new HashError('LENGTH_EXCEEDED', `${name} is more than the ${limit} bytes the trusted collection states (${n} bytes read so far)`, { where: name })),
          }
        : {}),
    });
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

async function copyToStdout(ctx: CommandContext, path: string): Promise<void> {
  const stream = ctx.io.stdoutStream;
  if (stream) {
    await pipeline(createReadStream(path, { highWaterMark: CHUNK_SIZE }), stream, { end: false });
    return;
  }
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_SIZE })) ctx.io.stdoutBytes(chunk as Buffer);
}
