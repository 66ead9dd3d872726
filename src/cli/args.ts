// A small, strict option parser: unknown flags are errors (a typo must not silently fall back to a default).
import { parseArgs } from 'node:util';

/** An error caused by the user's input: printed as one line, without a stack trace. */
export class CliError extends Error {}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean | string[]; multiple?: boolean }>;

export function parseCli<T extends OptionSpec>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** Parses `--flag VALUE` as an integer ≥ min (default: positive), naming the flag on error. */
export function intOption(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new CliError(`--${name} must be an integer ≥ ${min}, got '${value}'`);
  return n;
}
