/**
 * The deploy gate's signing policy: one document (YAML or JSON — JSON is read by the same YAML 1.2 parser, so
 * both get line numbers), validated into rules matched in order, first match wins, with an explicit default.
 * Pure: the caller reads the file; errors name the file, line and field.
 */
import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { NotaryError } from '../core/errors.js';
import { compileImagePattern, type ImagePattern } from './pattern.js';

/** What a rule does with a matching image. */
export type Action = 'enforce' | 'warn' | 'allow' | 'deny';

/** Signers a rule requires: every listed role (same digest), or any `count` of them agreeing on one digest. */
export type SignerRequirement = { readonly allOf: readonly string[] } | { readonly anyOf: readonly string[]; readonly count: number };

/** How the repository's root is trusted. */
export type RootTrust =
  | { readonly kind: 'tofu' }
  /** PEM public keys (or certificates): the trusted root role must list one of them. */
  | { readonly kind: 'keys'; readonly keys: readonly string[] }
  /** Notary trust pinning: root certificate IDs per GUN (or `prefix*`), or CA files per GUN prefix. */
  | { readonly kind: 'pinning'; readonly certs: Readonly<Record<string, readonly string[]>>; readonly ca: Readonly<Record<string, string>> };

export interface RuleTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

export interface Rule {
  /** The rule's name in decisions and logs: `name`, else its pattern, else `default`. */
  readonly name: string;
  readonly pattern: ImagePattern | undefined;
  readonly action: Action;
  /** Notary server URL; default: as docker chooses it for the image's registry. */
  readonly server?: string;
  readonly tls?: RuleTls;
  readonly root: RootTrust;
  /** Undefined: Docker's rule (the tag in targets/releases, else in targets). */
  readonly signers?: SignerRequirement;
  /** Refuse when any role expires within this many milliseconds of the decision time. */
  readonly freshnessMs?: number;
  /** Where the rule is in the policy file ("policy.yaml:12"), for messages. */
  readonly source: string;
}

export interface Policy {
  readonly rules: readonly Rule[];
  readonly default: Rule;
  /** Where trust data is cached (default: the docker trust dir). */
  readonly trustDir?: string;
  /** How long a verified repository is reused before its timestamp is fetched again (default 30 s). */
  readonly refreshMs: number;
  readonly file: string;
}

export class PolicyError extends NotaryError {}

const DURATION = /^(?:\d+(?:ms|s|m|h|d))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Go-style durations plus days: `90s`, `30m`, `72h`, `7d`, `1h30m`. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return Number.isSafeInteger(total) ? total : undefined;
}

const duration = z.string().refine((s) => parseDuration(s) !== undefined, { message: 'expected a duration such as 30s, 15m, 72h or 7d' });
const roleName = z
  .string()
  .min(1)
  .refine((s) => /^[A-Za-z0-9_.\-/]+$/.test(s) && !s.startsWith('/') && !s.endsWith('/') && !s.includes('//'), {
    message: 'expected a delegation role name such as ci or targets/ci',
  });
const action = z.enum(['enforce', 'warn', 'allow', 'deny']);
const signers = z.union([
  z.array(roleName).min(1),
  z.strictObject({ anyOf: z.array(roleName).min(1), count: z.number().int().min(1) }).refine((s) => s.count <= s.anyOf.length, {
    message: 'count is larger than the anyOf list',
    path: ['count'],
  }),
]);
const root = z.union([
  z.literal('tofu'),
  z.strictObject({ keys: z.array(z.string().min(1)).min(1) }),
  z.strictObject({
    pinning: z
      .strictObject({ certs: z.record(z.string(), z.array(z.string().regex(/^[0-9a-f]{64}$/, 'expected a 64-hex-digit key ID')).min(1)).optional(), ca: z.record(z.string(), z.string().min(1)).optional() })
      .refine((p) => p.certs !== undefined || p.ca !== undefined, { message: 'pinning needs certs or ca' }),
  }),
]);
const ruleBody = {
  name: z.string().min(1).optional(),
  action: action.optional(),
  server: z
    .string()
    .refine((s) => /^(https?:\/\/|file:\/\/)/.test(s), { message: 'expected an https://, http:// or file:// URL' })
    .optional(),
  tls: z.strictObject({ ca: z.string().min(1).optional(), cert: z.string().min(1).optional(), key: z.string().min(1).optional() }).optional(),
  root: root.optional(),
  signers: signers.optional(),
  freshness: duration.optional(),
};
const ruleSchema = z.strictObject({ pattern: z.string().min(1), ...ruleBody });
const policySchema = z.strictObject({
  version: z.literal(1).optional(),
  trustDir: z.string().min(1).optional(),
  refresh: duration.optional(),
  rules: z.array(ruleSchema).optional(),
  default: z.union([action, z.strictObject(ruleBody)]).optional(),
});

type RuleInput = z.infer<typeof ruleSchema>;
type RuleBodyInput = Omit<RuleInput, 'pattern'>;

function lineOf(doc: ReturnType<typeof parseDocument>, counter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let line: number | undefined;
  const here = (n: unknown) => {
    const range = (n as YamlNode | null)?.range;
    if (range) line = counter.linePos(range[0]).line;
  };
  here(node);
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (!pair) break;
      here(pair.key);
      node = pair.value;
      here(node);
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      here(node);
    } else break;
  }
  return line;
}

function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out ? `.${String(key)}` : String(key);
  return out || '(top level)';
}

function roleOf(name: string): string {
  return name.startsWith('targets/') ? name : `targets/${name}`;
}

function buildRule(input: RuleBodyInput & { pattern?: string }, source: string, fallbackName: string): Rule {
  const signersIn = input.signers;
  const rootIn = input.root ?? 'tofu';
  const rule: Rule = {
    name: input.name ?? input.pattern ?? fallbackName,
    pattern: input.pattern === undefined ? undefined : compileImagePattern(input.pattern),
    action: input.action ?? 'enforce',
    root:
      rootIn === 'tofu'
        ? { kind: 'tofu' }
        : 'keys' in rootIn
          ? { kind: 'keys', keys: rootIn.keys }
          : { kind: 'pinning', certs: rootIn.pinning.certs ?? {}, ca: rootIn.pinning.ca ?? {} },
    source,
    ...(input.server !== undefined ? { server: input.server.replace(/\/+$/, '') } : {}),
    ...(input.tls !== undefined ? { tls: input.tls } : {}),
    ...(signersIn === undefined
      ? {}
      : Array.isArray(signersIn)
        ? { signers: { allOf: [...new Set(signersIn.map(roleOf))] } }
        : { signers: { anyOf: [...new Set(signersIn.anyOf.map(roleOf))], count: signersIn.count } }),
    ...(input.freshness !== undefined ? { freshnessMs: parseDuration(input.freshness)! } : {}),
  };
  if (rule.signers && 'anyOf' in rule.signers && rule.signers.count > rule.signers.anyOf.length) {
    throw new PolicyError('POLICY_INVALID', `${source}: signers.count is larger than the number of distinct roles listed`, { where: source });
  }
  return rule;
}

/**
 * Parses and validates a policy. `file` names it in errors (`policy.yaml:12: rules[1].signers: …`). Throws
 * PolicyError (code POLICY_INVALID) for anything malformed, never a partial policy.
 */
export function parsePolicy(text: string, file = 'policy'): Policy {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: false, version: '1.2' });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = counter.linePos(e.pos[0]).line;
    throw new PolicyError('POLICY_INVALID', `${file}:${line}: ${e.message.split('\n')[0]}`, { where: `${file}:${line}` });
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  const parsed = policySchema.safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    let path = issue.path;
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
      path = [...path, issue.keys[0]!];
    }
    const line = lineOf(doc, counter, path);
    const where = line === undefined ? file : `${file}:${line}`;
    throw new PolicyError('POLICY_INVALID', `${where}: ${fieldName(path)}: ${message}`, { where });
  }
  const p = parsed.data;
  const rules = (p.rules ?? []).map((r, i) => {
    const source = `${file}:${lineOf(doc, counter, ['rules', i]) ?? '?'}`;
    try {
      return buildRule(r, source, `rules[${i}]`);
    } catch (err) {
      if (err instanceof PolicyError) throw err;
      if (err instanceof NotaryError) {
        throw new PolicyError('POLICY_INVALID', `${source}: rules[${i}].pattern: ${err.message}`, { where: source, cause: err });
      }
      throw err;
    }
  });
  const defaultSource = `${file}:${lineOf(doc, counter, ['default']) ?? '?'}`;
  const def = p.default === undefined ? 'deny' : p.default;
  const defaultRule = buildRule(typeof def === 'string' ? { action: def, name: 'default' } : { name: 'default', ...def }, defaultSource, 'default');
  return {
    rules,
    default: defaultRule,
    refreshMs: p.refresh === undefined ? 30_000 : parseDuration(p.refresh)!,
    file,
    ...(p.trustDir !== undefined ? { trustDir: p.trustDir } : {}),
  };
}

/** Docker's default: no policy file means every image must be signed by Docker's rule, root on first use. */
export function defaultPolicy(): Policy {
  return {
    rules: [],
    default: { name: 'default', pattern: undefined, action: 'enforce', root: { kind: 'tofu' }, source: '(built-in)' },
    refreshMs: 30_000,
    file: '(built-in)',
  };
}

/** The first rule whose pattern matches the normalised name and tag; the default otherwise. */
export function ruleFor(policy: Policy, name: string, tag: string | undefined): Rule {
  for (const rule of policy.rules) if (rule.pattern?.matches(name, tag)) return rule;
  return policy.default;
}
