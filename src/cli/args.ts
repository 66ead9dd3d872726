// A strict option parser over the definitions of options.ts: an unknown flag is an error that suggests the
// nearest known one (a typo must not silently fall back to a default), and every value is checked against its
// form before any work starts, in a message naming the flag.
import { parseArgs } from 'node:util';
import { didYouMean } from '../util/nearest.js';
import { MAX_SIDE, type Option, type Options, type Size, type Values } from './options.js';

/** An error caused by the user's input: printed as one line, without a stack trace. */
export class CliError extends Error {}

/** The help flag every command takes. */
export const HELP_OPTION = { kind: 'flag', help: 'print this help' } as const satisfies Option;

export interface Parsed<O extends Options> {
  readonly values: Values<O>;
  readonly positionals: string[];
  /** The options given on the command line, as opposed to taking their default. */
  readonly given: ReadonlySet<string>;
  readonly help: boolean;
}

/** `argv` against `options`; `name` is the command's, for the hint that an unknown flag's error ends with. */
export function parseOptions<O extends Options>(argv: string[], options: O, allowPositionals: boolean, name: string): Parsed<O> {
  const all: Options = { ...options, help: HELP_OPTION };
  const config = Object.fromEntries(
    Object.entries(all).map(([flag, o]) => [flag, { type: o.kind === 'flag' ? 'boolean' : 'string', multiple: o.multiple === true, ...(flag === 'help' ? { short: 'h' } : {}) }] as const),
  );
  let raw: ReturnType<typeof parseArgs>;
  try {
    raw = parseArgs({ args: argv, options: config, allowPositionals, strict: true });
  } catch (err) {
    throw new CliError(explain(err as Error & { code?: string }, Object.keys(all), name));
  }
  const values: Record<string, unknown> = {};
  for (const [flag, o] of Object.entries(options)) {
    const given = raw.values[flag];
    if (o.kind === 'flag') values[flag] = given ?? false;
    else if (o.multiple) values[flag] = ((given ?? []) as string[]).map((v) => parseValue(flag, o, v));
    else {
      const text = (given as string | undefined) ?? o.default;
      values[flag] = text === undefined ? undefined : parseValue(flag, o, text);
    }
  }
  return { values: values as Values<O>, positionals: raw.positionals, given: new Set(Object.keys(raw.values)), help: raw.values.help === true };
}

/** parseArgs's message, with the nearest known flag for an unknown one. */
function explain(err: Error & { code?: string }, flags: string[], name: string): string {
  if (err.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return err.message;
  const flag = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  return `Unknown option '${flag}'${didYouMean(flag, flags.map((f) => `--${f}`))}; 'rtsr ${name} --help' lists the options`;
}

/** `text` checked against the form of `--flag`, and converted. */
function parseValue(flag: string, o: Option, text: string): number | string | Size {
  switch (o.kind) {
    case 'int': {
      const n = Number(text);
      if (!Number.isInteger(n) || n < o.min || n > (o.max ?? Infinity)) throw new CliError(`--${flag} must be an integer ${o.max === undefined ? `≥ ${o.min}` : `in [${o.min}, ${o.max}]`}, got '${text}'`);
      return n;
    }
    case 'number': {
      const n = Number(text);
      if (!Number.isFinite(n) || n <= 0) throw new CliError(`--${flag} must be a positive number${o.unit ? ` of ${o.unit}` : ''}, got '${text}'`);
      return n;
    }
    case 'share': {
      const n = Number(text);
      if (!(n > 0 && n < 1)) throw new CliError(`--${flag} must be a share in (0, 1), got '${text}'`);
      return n;
    }
    case 'size':
      return parseSize(flag, text);
    case 'choice':
      if (!o.choices.includes(text)) throw new CliError(`--${flag} must be ${orList(o.choices)}, not '${text}'`);
      return text;
    case 'text':
      return text;
    case 'flag':
      throw new Error(`--${flag} takes no value`);
  }
}

function parseSize(flag: string, text: string): Size {
  const m = /^(\d+)x(\d+)$/.exec(text);
  if (!m || Number(m[1]) === 0 || Number(m[2]) === 0) throw new CliError(`--${flag} must be WIDTHxHEIGHT (e.g. 640x360), got '${text}'`);
  const [w, h] = [Number(m[1]), Number(m[2])];
  if (w > MAX_SIDE || h > MAX_SIDE) throw new CliError(`--${flag} ${text}: at most ${MAX_SIDE} pixels a side`);
  return { w, h };
}

/** 'a', 'a or b', 'a, b or c'. */
const orList = (xs: readonly string[]) => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`);
