// Models with random weights for equivalence tests (compiler, export).
import { Model } from '../../src/models/model.js';
import { parseArch } from '../../src/models/registry.js';
import { Rng } from '../../src/util/random.js';

/** Random weights with every weight-norm gain moved off its initial value, every bias non-zero and every
 *  training branch's weights random (their last convs start at zero), so the fold g·v/‖v‖, the bias inputs and
 *  the branches are really exercised. */
export function randomModel(spec: string, scale: number, seed: number): Model {
  const m = Model.init(parseArch(spec, scale), seed);
  const rng = new Rng(seed + 1000);
  for (const [name, p] of m.params) {
    if (name.endsWith('.g')) p.data.forEach((g, i) => (p.data[i] = g * rng.uniform(0.5, 1.5)));
    if (name.endsWith('.b')) p.data.forEach((_, i) => (p.data[i] = rng.uniform(-0.2, 0.2)));
    if (name.includes('.rep.')) {
      const bound = 0.5 / Math.sqrt(p.size / p.shape[3]);
      p.data.forEach((_, i) => (p.data[i] = rng.uniform(-bound, bound)));
    }
  }
  return m;
}
