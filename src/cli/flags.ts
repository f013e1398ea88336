/**
 * Command-line parsing with the conventions of Go's pflag (what notary uses): `--name value`,
 * `--name=value`, `-n value`, `-nvalue`, grouped boolean shorthands (`-Dv`), repeated or comma-separated
 * string slices, flags interspersed with arguments, and `--` to end flags.
 */
export type FlagType = 'bool' | 'string' | 'strings' | 'int';

export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  readonly type: FlagType;
  readonly description: string;
  readonly default?: string | boolean | number | readonly string[];
  /** Shown in help as the value name (pflag writes the type: "string", "strings"). */
  readonly hidden?: boolean;
  /** The value's name in help when it is not the type's (pflag: `-n, --number ints`). */
  readonly valueName?: string;
}

export type FlagValues = Record<string, string | boolean | number | string[] | undefined>;

export class UsageError extends Error {}

export interface Parsed {
  readonly args: string[];
  readonly flags: FlagValues;
}

function splitSlice(value: string): string[] {
  // pflag's StringSlice reads the value as one CSV record.
  return value === '' ? [] : value.split(',');
}

export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[]): Parsed {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const flags: FlagValues = {};
  const sliceSeen = new Set<string>();
  for (const s of specs) {
    if (s.default !== undefined) flags[s.name] = Array.isArray(s.default) ? [...(s.default as string[])] : (s.default as string | boolean | number);
  }
  const args: string[] = [];

  const assign = (spec: FlagSpec, value: string | undefined, display: string): void => {
    switch (spec.type) {
      case 'bool':
        if (value === undefined || value === 'true' || value === '1' || value === 't' || value === 'T' || value === 'TRUE' || value === 'True') flags[spec.name] = true;
        else if (value === 'false' || value === '0' || value === 'f' || value === 'F' || value === 'FALSE' || value === 'False') flags[spec.name] = false;
        else throw new UsageError(`invalid argument "${value}" for "${display}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
        return;
      case 'string':
        flags[spec.name] = value ?? '';
        return;
      case 'int': {
        if (!/^[-+]?\d+$/.test(value ?? '')) throw new UsageError(`invalid argument "${value}" for "${display}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
        flags[spec.name] = Number(value);
        return;
      }
      case 'strings': {
        // The first use replaces the default; later uses append.
        const prev = sliceSeen.has(spec.name) ? ((flags[spec.name] as string[] | undefined) ?? []) : [];
        sliceSeen.add(spec.name);
        flags[spec.name] = [...prev, ...splitSlice(value ?? '')];
        return;
      }
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const spec = byName.get(name);
      if (!spec) throw new UsageError(`unknown flag: --${name}`);
      let value: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
      if (value === undefined && spec.type !== 'bool') {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: --${name}`);
        value = argv[++i]!;
      }
      assign(spec, value, name);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // Grouped shorthands: booleans may be combined; a value-taking one consumes the rest or the next arg.
      for (let k = 1; k < a.length; k++) {
        const c = a[k]!;
        const spec = byShort.get(c);
        if (!spec) throw new UsageError(`unknown shorthand flag: '${c}' in ${a}`);
        if (spec.type === 'bool') {
          if (a[k + 1] === '=') {
            assign(spec, a.slice(k + 2), spec.name);
            break;
          }
          assign(spec, undefined, spec.name);
          continue;
        }
        let value = a.slice(k + 1);
        if (value.startsWith('=')) value = value.slice(1);
        else if (value === '') {
          if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: '${c}' in -${c}`);
          value = argv[++i]!;
        }
        assign(spec, value, spec.name);
        break;
      }
      continue;
    }
    args.push(a);
  }
  return { args, flags };
}

export function flagHelp(specs: readonly FlagSpec[]): string {
  // pflag lists flags sorted by long name.
  const rows = [...specs]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .filter((s) => !s.hidden)
    .map((s) => {
      const names = s.short ? `-${s.short}, --${s.name}` : `    --${s.name}`;
      const type = s.type === 'bool' ? '' : s.valueName ? ` ${s.valueName}` : s.type === 'strings' ? ' strings' : s.type === 'int' ? ' int' : ' string';
      return [`  ${names}${type}`, s.description] as const;
    });
  const width = Math.max(0, ...rows.map(([l]) => l.length));
  return rows.map(([l, d]) => `${l.padEnd(width)}   ${d}`).join('\n');
}
