// A trained model as an Upscaler, the interface `rtsr eval` scores: uint8 LR in, uint8 SR out, on the
// current backend.
import { Tensor } from '../engine/tensor.js';
import type { Upscaler } from '../eval/upscaler.js';
import { fromFloat, type RgbImage, toFloat } from '../image/image.js';
import type { Model } from './model.js';

export function modelUpscaler(model: Model, name: string): Upscaler {
  const s = model.scale;
  return {
    name,
    scale: s,
    upscale(lr: RgbImage): RgbImage {
      const y = model.forward(new Tensor(toFloat(lr), [1, lr.height, lr.width, 3]));
      return fromFloat(y.data, lr.width * s, lr.height * s);
    },
  };
}
