/**
 * The manifest digest and size of an image tag, from its registry (src/registry): what `trust sign` signs
 * instead of asking a Docker daemon.
 */
import { NotaryError } from '../../core/errors.js';
import type { ImageReference } from '../reference.js';
import type { Env } from './session.js';

export async function resolveImageDigest(ref: ImageReference, tag: string, env: Env): Promise<{ digest: string; size: number }> {
  void env;
  throw new NotaryError('OFFLINE', `cannot resolve ${ref.name}:${tag}: no registry client yet`);
}
