/**
 * An image reference to the manifest it names, as a daemonless `docker trust sign` needs it: the registry
 * digest, size and media type of a tag (a multi-platform tag resolves to its index). Puts together the
 * reference grammar, docker's insecure-registry rule, docker's credential lookup and the registry client.
 */
import { NotaryError } from '../core/errors.js';
import { resolveRegistryCredentials } from '../node/credentials.js';
import type { CredentialSource, RemoteTlsOptions } from '../node/remote.js';
import { RegistryClient, type ManifestDescriptor, type RegistryTimeouts } from '../registry/client.js';
import { parseNormalizedNamed, type ImageReference } from './reference.js';
import { isInsecureRegistry, type Env, type HostLookup } from './trust-settings.js';

export interface ResolveImageOptions {
  /** Environment for DOCKER_CONFIG, DOCKER_AUTH_CONFIG, HOME, PATH (default process.env). */
  readonly env?: Env;
  /** docker's `--config` directory. */
  readonly configDir?: string;
  /** Credentials instead of docker's lookup. */
  readonly credentials?: CredentialSource;
  /** true (default): GET and hash; false: HEAD, unverified (see RegistryClient.resolve). */
  readonly verify?: boolean;
  /** Token scope actions (default pull). */
  readonly actions?: readonly ('pull' | 'push')[];
  /** Extra TLS settings for the registry. */
  readonly tls?: RemoteTlsOptions;
  /** Override docker's insecure rule (loopback registries). */
  readonly insecure?: boolean;
  readonly lookup?: HostLookup;
  readonly timeouts?: Partial<RegistryTimeouts>;
  readonly signal?: AbortSignal;
  /** Reuse a client (its registry must match). */
  readonly client?: RegistryClient;
}

export interface ResolvedImage {
  readonly reference: ImageReference;
  /** The tag or digest that was resolved. */
  readonly resolved: string;
  readonly manifest: ManifestDescriptor;
}

/**
 * Resolves `image` (a string or parsed reference) to its manifest. A reference with a digest resolves that
 * digest (and the body must hash to it); otherwise its tag; a bare name is refused (no implicit `latest`:
 * signing must name what it signs) unless `defaultTag` is given.
 */
export async function resolveImage(image: string | ImageReference, options: ResolveImageOptions & { defaultTag?: string } = {}): Promise<ResolvedImage> {
  const reference = typeof image === 'string' ? parseNormalizedNamed(image) : image;
  const resolved = reference.digest ?? reference.tag ?? options.defaultTag;
  if (resolved === undefined) throw new NotaryError('INVALID_ARGUMENT', `no tag specified for ${reference.name}`);
  const env = options.env ?? process.env;
  const client =
    options.client ??
    new RegistryClient({
      registry: reference.domain,
      insecure: options.insecure ?? (await isInsecureRegistry(reference.domain, options.lookup ? { lookup: options.lookup } : {})),
      credentials:
        options.credentials ??
        (() => resolveRegistryCredentials(reference.domain, { env: env as NodeJS.ProcessEnv, ...(options.configDir !== undefined ? { configDir: options.configDir } : {}) })),
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    });
  try {
    const manifest = await client.resolve(reference.path, resolved, {
      ...(options.verify !== undefined ? { verify: options.verify } : {}),
      ...(options.actions ? { actions: options.actions } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { reference, resolved, manifest };
  } finally {
    if (!options.client) await client.close();
  }
}
