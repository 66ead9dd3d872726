// A trained model as an Upscaler, the interface `rtsr eval` scores: uint8 LR in, uint8 SR out — compiled for a
// target, so what is scored is what users deploy (the fused, folded model), not the training graph.
import { compile, type CompiledModel } from '../compiler/compile.js';
import type { Upscaler } from '../eval/upscaler.js';
import type { RgbImage } from '../image/image.js';
import { defaultTarget } from '../targets/registry.js';
import type { Target } from '../targets/target.js';
import type { Model } from './model.js';

/** Compiled on first use; on `target`, else the fastest one here. Untuned: every tuning computes the same bits
 *  (tested per target), and tuning each image width a benchmark set holds cost more than scoring it (Set5 on a
 *  cold cache: 24 s tuned, 23 modules). */
export function modelUpscaler(model: Model, name: string, target?: Target): Upscaler {
  let compiled: Promise<CompiledModel> | null = null;
  return {
    name,
    scale: model.scale,
    async upscale(lr: RgbImage): Promise<RgbImage> {
      compiled ??= (async () => compile(model, { target: target ?? (await defaultTarget()), tune: false }))();
      return (await compiled).runImage(lr);
    },
  };
}
