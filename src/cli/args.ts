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

/** Parses `--flag VALUE` as an integer in [min, max] (default: positive), naming the flag on error. */
export function intOption(name: string, value: string | undefined, fallback: number, min = 1, max = Infinity): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`--${name} must be an integer ${max === Infinity ? `≥ ${min}` : `in [${min}, ${max}]`}, got '${value}'`);
  return n;
}

/** Parses `--flag VALUE` as a finite positive number of milliseconds ('Infinity' is no budget). */
export function msOption(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`--${name} must be a positive number of milliseconds, got '${value}'`);
  return n;
}
