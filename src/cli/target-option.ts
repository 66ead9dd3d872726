// `--target NAME` for every command that compiles a model: where it runs (src/targets). Without the flag, the
// fastest target available here.
import { defaultTarget, getTarget } from '../targets/registry.js';
import type { Target } from '../targets/target.js';
import { CliError } from './args.js';

/** The named target, checked to run here; or the default one. */
export async function resolveTarget(name: string | undefined): Promise<Target> {
  if (name === undefined) return defaultTarget();
  let target: Target;
  try {
    target = await getTarget(name);
  } catch (err) {
    throw new CliError(`--target: ${(err as Error).message}`);
  }
  const missing = await target.unavailable();
  if (missing) throw new CliError(`--target ${name} does not run here: ${missing}`);
  return target;
}
