// `--target NAME` for every command that compiles a model: where it runs (src/targets). Without the flag, the
// fastest target available here. `--precision f32|f16` for the commands that run a model: f16 storage where the
// target has it (webgpu on an adapter with 'shader-f16'), else one line saying why not.
import { defaultTarget, getTarget, TARGET_NAMES } from '../targets/registry.js';
import type { Precision, Target } from '../targets/target.js';
import { CliError } from './args.js';

export const TARGET_OPTION = { target: { type: 'string' } } as const;
export const TARGET_NAMES_HELP = TARGET_NAMES.join("|");
export const PRECISION_OPTION = { precision: { type: 'string' } } as const;

export function parsePrecision(value: string | undefined): Precision {
  if (value === undefined || value === 'f32' || value === 'f16') return value ?? 'f32';
  throw new CliError(`--precision: f32 or f16, got '${value}'`);
}

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
