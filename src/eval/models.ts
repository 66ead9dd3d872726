// Resolves `--model` to an Upscaler: a built-in baseline by name, else a trained model by file path or zoo
// name (compiled for the given target, else the fastest one here).
import { modelUpscaler } from '../models/upscaler.js';
import { findModel } from '../models/zoo.js';
import type { Target } from '../targets/target.js';
import { bicubicUpscaler, type Upscaler } from './upscaler.js';

const BUILTIN: Record<string, (scale: number) => Upscaler> = {
  bicubic: bicubicUpscaler,
};

export const KNOWN_MODELS: readonly string[] = Object.keys(BUILTIN);

/** `scale` is required for built-ins; a trained model has its own, which `scale` (when given) must match. */
export async function resolveModel(name: string, scale?: number, target?: Target): Promise<Upscaler> {
  const make = BUILTIN[name];
  if (make) {
    if (scale === undefined) throw new Error(`model '${name}' needs --scale`);
    return make(scale);
  }
  let found: ReturnType<typeof findModel>;
  try {
    found = findModel(name);
  } catch (err) {
    throw new Error(`unknown model '${name}': ${(err as Error).message}; built-in models: ${KNOWN_MODELS.join(', ')}`);
  }
  if (scale !== undefined && scale !== found.model.scale) throw new Error(`${found.path} is a ×${found.model.scale} model, but --scale ${scale} was asked for`);
  return modelUpscaler(found.model, name, target);
}
