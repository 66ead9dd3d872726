// `--target NAME` for every command that compiles a model: where it runs (src/targets). Without the flag, the
// fastest target available here; at `--precision f16`, a target that stores f16 here (webgpu on an adapter with
// 'shader-f16'), else one line saying why not.
import { defaultTarget, getTarget } from '../targets/registry.js';
import type { Precision, Target } from '../targets/target.js';
import { CliError } from './args.js';

/** The named target, checked to run here (at `precision`); or the default one. */
export async function resolveTarget(name: string | undefined, precision: Precision = 'f32'): Promise<Target> {
  let target: Target;
  try {
    target = name === undefined ? await defaultTarget() : await getTarget(name);
  } catch (err) {
    throw new CliError(`--target: ${(err as Error).message}`);
  }
  const missing = await target.unavailable(precision);
  if (missing) throw new CliError(`--target ${target.name} does not run here${precision === 'f32' ? '' : ` in ${precision}`}: ${missing}`);
  return target;
}
