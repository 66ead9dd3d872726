// Training batches from real images: a PatchSampler whose random stream for step t is seeded by (seed, t),
// so the data order is a pure function of the step and resuming needs no sampler state.
import type { PatchSampler } from '../data/patches.js';
import { Tensor } from '../engine/tensor.js';
import { Rng } from '../util/random.js';
import type { BatchSource } from './loop.js';

export function patchSource(sampler: PatchSampler, seed: number, batch: number, patch: number): BatchSource {
  const s = sampler.scale;
  return {
    batch(step) {
      const rng = new Rng(Uint32Array.from([seed >>> 0, step >>> 0, 0x5eed, 0x0b5e55ed]));
      // Warm the stream up: xoshiro seeded with structured words starts with correlated outputs.
      for (let i = 0; i < 8; i++) rng.nextU32();
      const b = sampler.sample(rng, batch, patch);
      return { lr: new Tensor(b.lr, [batch, patch, patch, 3]), hr: new Tensor(b.hr, [batch, patch * s, patch * s, 3]) };
    },
  };
}
