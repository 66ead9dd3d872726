// Where `rtsr upscale` may write, decided before any work: no output replaces an input or another output
// (compared by real path, so symlinks and `..` cannot sneak past), none replaces an existing file unless
// asked to, and every output folder exists and accepts new files.
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { checkWritable, makeFolder } from '../util/atomic.js';
import { fsCause } from '../util/errors.js';
import { CliError } from './args.js';

/** `path` with symlinks resolved; for a path that does not exist yet, its deepest existing folder's. */
export function realPath(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    return dirname(abs) === abs ? abs : join(realPath(dirname(abs)), basename(abs));
  }
}

/** Refuses outputs that are inputs (any of them, not only their own) or that two inputs would share. */
export function checkDistinct(inputs: readonly string[], outs: readonly string[]): void {
  const realInputs = new Map(inputs.map((f) => [realPath(f), f]));
  const seen = new Map<string, string>();
  outs.forEach((o, i) => {
    const real = realPath(o);
    const input = realInputs.get(real);
    if (input !== undefined) throw new CliError(`writing ${o} would overwrite the input ${input}`);
    const other = seen.get(real);
    if (other !== undefined) throw new CliError(`${other} and ${inputs[i]} would both be written to ${o}`);
    seen.set(real, inputs[i]);
  });
}

/** Without --overwrite, existing outputs are an error that lists them, and nothing is written: a rerun must
 *  not silently replace earlier results, and a half-done batch is worse than none. */
export function checkNotExisting(outs: readonly string[]): void {
  const existing = outs.filter((o) => existsSync(o));
  if (existing.length === 0) return;
  const what = existing.length === 1 ? `${existing[0]} already exists` : `${existing.length} of the ${outs.length} outputs already exist (${listFew(existing)})`;
  throw new CliError(`${what}; nothing was written (pass --overwrite to replace ${existing.length === 1 ? 'it' : 'them'})`);
}

/** The first five names, comma-separated, then '…' when there are more. */
export function listFew(names: readonly string[]): string {
  return names.slice(0, 5).join(', ') + (names.length > 5 ? ', …' : '');
}

/** Creates the output folders and proves each accepts files, failing in one line that names the path. */
export function prepareFolders(outs: readonly string[]): void {
  for (const dir of new Set(outs.map((o) => dirname(o)))) {
    try {
      makeFolder(dir);
    } catch (err) {
      throw new CliError(`cannot create folder ${(err as NodeJS.ErrnoException).path ?? dir}: ${fsCause(err)}`);
    }
    try {
      checkWritable(dir);
    } catch (err) {
      throw new CliError(`cannot write to ${dir}: ${fsCause(err)}`);
    }
  }
}
