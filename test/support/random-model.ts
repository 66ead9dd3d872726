// Models with random weights for equivalence tests (compiler, export).
import { Model } from '../../src/models/model.js';
import { parseArch } from '../../src/models/registry.js';
import { Rng } from '../../src/util/random.js';

/** Random weights with every weight-norm gain moved off its initial value and every bias non-zero, so the
 *  fold g·v/‖v‖ and the bias inputs are really exercised. */
export function randomModel(spec: string, scale: number, seed: number): Model {
  const m = Model.init(parseArch(spec, scale), seed);
  const rng = new Rng(seed + 1000);
  for (const [name, p] of m.params) {
    if (name.endsWith('.g')) p.data.forEach((g, i) => (p.data[i] = g * rng.uniform(0.5, 1.5)));
    if (name.endsWith('.b')) p.data.forEach((_, i) => (p.data[i] = rng.uniform(-0.2, 0.2)));
  }
  return m;
}
