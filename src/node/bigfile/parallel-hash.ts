/**
 * sha512 on a second thread while this one reads and computes sha256: the two hashes of a large file take
 * the time of the slower one instead of their sum (≈ 0.65 s + 1.1 s per GiB here → ≈ 1.1 s), and on a busy
 * machine a process with two running threads gets twice the CPU share of one. Chunks are shared, not
 * copied: a ring of SLOTS 1 MiB SharedArrayBuffers, a slot reused only once the worker says it is done with
 * it, so memory stays constant (4 MiB) and no fresh memory is touched per chunk.
 */
import { read } from 'node:fs';
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { CHUNK_SIZE, type HashOptions, type StreamDigest } from './hash-stream.js';

const SLOTS = 4;

// CommonJS source for `new Worker(…, { eval: true })`: no file to find next to the bundle.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hash = createHash('sha512');
const views = workerData.buffers.map((b) => new Uint8Array(b));
parentPort.on('message', (m) => {
  if (m.done) {
    parentPort.postMessage({ digest: hash.digest() });
    return;
  }
  hash.update(views[m.slot].subarray(0, m.n));
  parentPort.postMessage({ free: m.slot });
});
`;

/** Worth a thread (≈ 30–50 ms to start) only past this size. */
export const PARALLEL_MIN_BYTES = 64 * 1024 * 1024;

export async function hashFdParallel(fd: number, options: HashOptions = {}): Promise<StreamDigest> {
  const buffers = Array.from({ length: SLOTS }, () => new SharedArrayBuffer(CHUNK_SIZE));
  const views = buffers.map((b) => new Uint8Array(b));
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { buffers } });
  const free: number[] = buffers.map((_, i) => i);
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  let digest512: ((d: Uint8Array) => void) | undefined;
  let failed512: ((err: Error) => void) | undefined;
  const sha512 = new Promise<Uint8Array>((done, reject) => {
    digest512 = done;
    failed512 = reject;
  });
  sha512.catch(() => undefined); // awaited below, or the loop failed first
  worker.on('message', (m: { free?: number; digest?: Uint8Array }) => {
    if (m.free !== undefined) free.push(m.free);
    if (m.digest !== undefined) digest512!(new Uint8Array(m.digest));
    wake?.();
  });
  const fail = (err: Error) => {
    failure ??= err;
    failed512!(err);
    wake?.();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the hashing thread exited (${code})`)));
  const waitForWorker = () => new Promise<void>((done) => (wake = done));
  try {
    const h256 = createHash('sha256');
    let length = 0;
    for (;;) {
      while (free.length === 0 && !failure) await waitForWorker();
      if (failure) throw failure;
      const slot = free.shift()!;
      const view = views[slot]!;
      const n = await new Promise<number>((done, reject) => read(fd, view, 0, CHUNK_SIZE, null, (err, bytes) => (err ? reject(err) : done(bytes))));
      if (n === 0) break;
      length += n;
      if (options.limit !== undefined && length > options.limit) {
        throw options.onLimit ? options.onLimit(length) : new Error(`more than ${options.limit} bytes`);
      }
      const chunk = view.subarray(0, n);
      h256.update(chunk);
      // The worker only reads the slot, as the sink does; neither writes it until it is free again.
      worker.postMessage({ slot, n });
      if (options.sink) await options.sink(chunk);
      options.onProgress?.(length);
    }
    worker.postMessage({ done: true });
    const sha256 = new Uint8Array(h256.digest());
    return { length, sha256, sha512: await sha512 };
  } finally {
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
}
