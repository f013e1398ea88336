/**
 * The manifest digest and size of an image tag, from its registry (src/images/resolve.ts: the body is
 * fetched and hashed, so a lying Docker-Content-Digest is refused): what `trust sign` signs instead of asking
 * a Docker daemon. A multi-platform tag resolves to its index, which is what docker signs for it.
 */
import { withTag, type ImageReference } from '../reference.js';
import { resolveImage } from '../resolve.js';
import type { Env } from './session.js';

export async function resolveImageDigest(ref: ImageReference, tag: string, env: Env, configDir?: string): Promise<{ digest: string; size: number }> {
  const { manifest } = await resolveImage(withTag(ref, tag), { env, ...(configDir !== undefined ? { configDir } : {}) });
  return { digest: manifest.digest, size: manifest.size };
}
