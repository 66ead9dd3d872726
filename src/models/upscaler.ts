// A trained model as an Upscaler, the interface `rtsr eval` scores: uint8 LR in, uint8 SR out. On `native` it
// runs what users deploy — the compiled, fused model — and on `reference` the engine's forward pass.
import { compile } from '../compiler/compile.js';
import { backend, Tensor } from '../engine/tensor.js';
import type { Upscaler } from '../eval/upscaler.js';
import { fromFloat, type RgbImage, toFloat } from '../image/image.js';
import type { Model } from './model.js';

export function modelUpscaler(model: Model, name: string): Upscaler {
  const s = model.scale;
  if (backend().name === 'native') {
    const compiled = compile(model, { backend: 'native' });
    return { name, scale: s, upscale: (lr: RgbImage) => compiled.runImage(lr) };
  }
  return {
    name,
    scale: s,
    upscale(lr: RgbImage): RgbImage {
      const y = model.forward(new Tensor(toFloat(lr), [1, lr.height, lr.width, 3]));
      return fromFloat(y.data, lr.width * s, lr.height * s);
    },
  };
}
