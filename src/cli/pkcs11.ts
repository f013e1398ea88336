/**
 * CLI glue for a PKCS#11 token: settings from config, environment and flags; the PIN from NOTARY_PKCS11_PIN,
 * else from the passphrase retriever as Go asks it for a YubiKey (key name "User Pin", alias "yubikey": the
 * environment variable Go reads for that alias is NOTARY_DELEGATION_PASSPHRASE), else the prompt without echo.
 */
import { dirname } from 'node:path';
import { TokenError } from '../core/errors.js';
import { pinFromRetriever } from '../tokens/pkcs11/pin.js';
import { nodeCryptoBackend } from '../crypto/node.js';
import type { ClientConfig } from '../node/config.js';
import type { FileKeyStore, KeyStore } from '../node/keystore.js';
import { TokenAwareKeyStore } from '../tokens/pkcs11/combined.js';
import { resolvePkcs11Settings, type Pkcs11Settings } from '../tokens/pkcs11/config.js';
import { Pkcs11KeyStore, type PinSource } from '../tokens/pkcs11/token-store.js';
import type { CommandContext } from './program.js';
import { passphraseRetriever } from './writer.js';

export const NO_TOKEN_CONFIGURED =
  'no PKCS#11 token configured: set "pkcs11": {"module": …} in the config file, NOTARY_PKCS11_MODULE, or --pkcs11-module';

export function pkcs11Settings(ctx: CommandContext, config: ClientConfig): Pkcs11Settings | undefined {
  const flag = (name: string) => (typeof ctx.flags[name] === 'string' ? (ctx.flags[name] as string) : undefined);
  const module = flag('pkcs11-module');
  const token = flag('pkcs11-token');
  const slot = flag('pkcs11-slot');
  return resolvePkcs11Settings(
    config.pkcs11,
    ctx.io.env,
    { ...(module ? { module } : {}), ...(token ? { token } : {}), ...(slot ? { slot } : {}) },
    { cwd: ctx.io.cwd, ...(config.configFile ? { configDir: dirname(config.configFile) } : {}) },
  );
}

export function pinSource(ctx: CommandContext): PinSource {
  return pinFromRetriever(passphraseRetriever(ctx), ctx.io.env, { interactive: ctx.io.stdinIsTTY });
}

/**
 * The configured token, or undefined when none is configured (or only a probed YubiKey module exists and it
 * cannot be used: Go then quietly uses the files). `required`: no token is an error.
 */
export function openToken(ctx: CommandContext, config: ClientConfig, required: boolean): { token: Pkcs11KeyStore; settings: Pkcs11Settings } | undefined {
  const settings = pkcs11Settings(ctx, config);
  if (!settings) {
    if (required) throw new TokenError('TOKEN_UNAVAILABLE', NO_TOKEN_CONFIGURED);
    return undefined;
  }
  try {
    const token = Pkcs11KeyStore.open({
      module: settings.module,
      ...(settings.token !== undefined ? { token: settings.token } : {}),
      ...(settings.slot !== undefined ? { slot: settings.slot } : {}),
      pin: pinSource(ctx),
      crypto: nodeCryptoBackend,
      touchTimeoutMs: settings.touchTimeoutMs,
      prompt: (text) => ctx.print(text),
      log: (m) => ctx.log.debug(m),
    });
    ctx.log.debug(`using PKCS#11 token ${token.location} (module ${settings.module})`);
    return { token, settings };
  } catch (err) {
    if (settings.probed && !required) {
      ctx.log.debug(`No yubikey found, using alternative key storage: ${(err as Error).message}`);
      return undefined;
    }
    throw err;
  }
}

/** The file store with the token in front of it, when one is configured. */
export function withToken(ctx: CommandContext, config: ClientConfig, files: FileKeyStore): { store: KeyStore; close(): void } {
  const opened = openToken(ctx, config, false);
  if (!opened) return { store: files, close: () => undefined };
  const store = new TokenAwareKeyStore(files, opened.token, opened.settings, nodeCryptoBackend);
  return { store, close: () => opened.token.close() };
}
